from deploysim.agents.canonical import canonical_arguments, outputs_match


def test_arguments_that_differ_only_in_form_share_a_key():
    assert canonical_arguments('{"b": 250.0, "a": "  JFK \\n"}') == canonical_arguments(
        {"a": "JFK", "b": 250}
    )
    assert canonical_arguments('{"expression": "152  +\\t103"}') == canonical_arguments(
        {"expression": "152 + 103"}
    )
    assert canonical_arguments("") == canonical_arguments({}) == "{}"


def test_arguments_that_differ_in_meaning_do_not():
    legs = [{"flight_number": "HAT001"}, {"flight_number": "HAT002"}]
    assert canonical_arguments({"flights": legs}) != canonical_arguments({"flights": legs[::-1]})
    assert canonical_arguments({"amount": 250.5}) != canonical_arguments({"amount": 250})
    assert canonical_arguments({"flag": True}) != canonical_arguments({"flag": 1})


def test_outputs_compare_as_json_values_or_as_text():
    assert outputs_match('{"a": 1, "b": [1, 2]}', '{"b":[1,2],"a":1.0}')
    assert not outputs_match('{"b": [2, 1], "a": 1}', '{"a": 1, "b": [1, 2]}')
    assert outputs_match("Transfer successful", "Transfer successful\n")
    assert not outputs_match("Error: user not found", "Error: reservation not found")


def test_the_upstream_province_rename_is_forgiven_only_when_asked():
    ours, recorded = '{"address": {"state": "TX"}}', '{"address": {"province": "TX"}}'
    assert outputs_match(ours, recorded)
    assert not outputs_match(ours, recorded, renames={})
    assert not outputs_match('{"address": {"state": "CA"}}', recorded)
