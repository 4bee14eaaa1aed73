import json

from deploysim.privacy.deidentifier import Deidentifier

EMAIL = "maria.lopez@example.org"
PHONE = "+1 212-555-0199"
CARD = "4111 1111 1111 1111"


def test_placeholders_are_typed_consistent_and_numbered_in_reading_order():
    deid = Deidentifier()
    result = deid.deidentify_messages(
        [
            {"role": "system", "content": "Escalations go to ops@example.com"},
            {"role": "user", "content": f"Email {EMAIL} or call {PHONE}; my other mail is bob@example.net"},
            {"role": "assistant", "content": f"I will write to {EMAIL} today."},
        ]
    )
    system, user, assistant = (m["content"] for m in result.messages)
    assert system == "Escalations go to <EMAIL_ADDRESS_1>"
    assert user == "Email <EMAIL_ADDRESS_2> or call <PHONE_NUMBER_1>; my other mail is <EMAIL_ADDRESS_3>"
    # The same person is the same placeholder in every turn.
    assert assistant == "I will write to <EMAIL_ADDRESS_2> today."
    assert result.entity_counts["EMAIL_ADDRESS"] == 4


def test_tool_call_arguments_and_tool_outputs_are_deidentified():
    deid = Deidentifier()
    result = deid.deidentify_messages(
        [
            {"role": "user", "content": f"Charge my card {CARD}"},
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {
                            "name": "charge",
                            "arguments": json.dumps({"card": CARD, "email": EMAIL}),
                        },
                    }
                ],
            },
            {
                "role": "tool",
                "tool_call_id": "c1",
                "content": json.dumps({"receipt_to": EMAIL, "ip": "203.0.113.7"}),
            },
            {"role": "assistant", "content": "Done."},
        ]
    )
    text = json.dumps(result.messages)
    for secret in (CARD, EMAIL, "203.0.113.7"):
        assert secret not in text
    arguments = json.loads(result.messages[1]["tool_calls"][0]["function"]["arguments"])
    assert arguments == {"card": "<CREDIT_CARD_1>", "email": "<EMAIL_ADDRESS_1>"}
    assert json.loads(result.messages[2]["content"])["receipt_to"] == "<EMAIL_ADDRESS_1>"


def test_a_clean_text_is_left_alone_and_rescans_find_nothing_after_deidentification():
    deid = Deidentifier()
    clean = "Explain how photosynthesis works in two sentences."
    assert deid.redact(clean) == clean
    redacted = deid.redact(
        f"reach me at {EMAIL} or {PHONE}, SSN 123-45-6789, IBAN GB82 WEST 1234 5698 7654 32"
    )
    assert deid.strict_hits(redacted) == []
    assert deid.strict_hits(f"reach me at {EMAIL}")[0].entity_type == "EMAIL_ADDRESS"


def test_names_are_pseudonymized_consistently_by_ner_after_the_strict_tier():
    deid = Deidentifier()
    result = deid.deidentify_messages(
        [
            {"role": "user", "content": f"Hi, I'm Maria Lopez from Madrid. Mail {EMAIL} for my refund."},
            {"role": "assistant", "content": "Thanks Maria Lopez, I have emailed you."},
        ]
    )
    user, assistant = (m["content"] for m in result.messages)
    assert "Maria Lopez" not in user + assistant and "Madrid" not in user
    assert "<PERSON_1>" in user and "<PERSON_1>" in assistant
    assert "<EMAIL_ADDRESS_1>" in user
    assert result.entity_counts["PERSON"] == 2


def test_full_tier_numbers_after_the_placeholders_the_strict_tier_wrote():
    from deploysim.privacy.placeholders import PlaceholderBook

    book = PlaceholderBook()
    book.continue_after(["write to <EMAIL_ADDRESS_2> or <EMAIL_ADDRESS_1>"])
    assert book.placeholder("EMAIL_ADDRESS", "x@y.org") == "<EMAIL_ADDRESS_3>"
    assert book.placeholder("PERSON", "Ann") == "<PERSON_1>"


def test_batch_and_single_deidentification_agree():
    deid = Deidentifier()
    conversations = [
        [{"role": "user", "content": f"I am John Smith, call +1 212-555-0{i}99 or mail j{i}@example.com"}]
        for i in range(5)
    ]
    batched = [r.messages for r in deid.deidentify_many(conversations)]
    assert batched == [deid.deidentify_messages(c).messages for c in conversations]


def test_redaction_keeps_ordinary_assistant_wording_intact():
    deid = Deidentifier()
    for text in [
        "I'm sorry, but as an AI, I'm unable to browse the internet.",
        "As an AI language model, I cannot help with that. I am Happy to help with something else.",
        "I'm not able to provide that. I'm unable to share it.",
    ]:
        assert deid.redact(text) == text
    assert deid.redact("My name is Ingrid Solberg and I'm unable to log in.") == (
        "My name is <PERSON_1> and I'm unable to log in."
    )


def test_a_text_is_analysed_once_and_gives_the_same_result_again(monkeypatch):
    deidentifier = Deidentifier()
    text = "Please email Maria Gonzalez at maria.g@example.org about the invoice, unique marker 7301."
    first = deidentifier.deidentify_messages([{"role": "user", "content": text}])
    calls = []
    original = deidentifier.batch_analyzer.analyze_iterator
    monkeypatch.setattr(
        deidentifier.batch_analyzer,
        "analyze_iterator",
        lambda texts, **kw: calls.append(texts) or original(texts, **kw),
    )
    # The same text inside a longer conversation: only the new text is analysed.
    again = deidentifier.deidentify_many(
        [
            [{"role": "user", "content": text}],
            [{"role": "user", "content": text}, {"role": "assistant", "content": "Done, unique 7302."}],
        ]
    )
    assert calls == [["Done, unique 7302."]]
    assert again[0].messages == first.messages and again[1].messages[0] == first.messages[0]
    assert "Maria" not in again[1].messages[0]["content"]
    # The cache keys are digests, never the text.
    assert all(isinstance(key, bytes) and len(key) == 16 for key in deidentifier._analysed)
