from __future__ import annotations

import pytest

from deploysim.privacy.deidentifier import build_analyzer
from deploysim.privacy.names import GAZETTEER, GazetteerNameRecognizer, load_gazetteer, name_recognizers

pytestmark = pytest.mark.skipif(not GAZETTEER.exists(), reason="data/pii/names.json.gz not built")


@pytest.fixture(scope="module")
def found():
    analyzer = build_analyzer(True)
    recognizer = name_recognizers()[0]

    def run(text: str) -> list[str]:
        artifacts = analyzer.nlp_engine.process_text(text, "en")
        return [text[r.start : r.end] for r in recognizer.analyze(text, ["PERSON"], artifacts)]

    return run


def test_the_gazetteer_is_compact_and_leaves_out_english_words():
    assert GAZETTEER.stat().st_size < 2_000_000
    g = load_gazetteer()
    assert g.is_first("Tomomi") and g.is_last("Nishiyama")
    for word in ("Will", "May", "Mark", "Grace", "Hope", "Bill", "Rose", "Summer", "Paris", "China", "June"):
        assert not g.is_name(word), word


def test_without_nlp_artifacts_nothing_is_found():
    assert GazetteerNameRecognizer().analyze("Tomomi Nishiyama", ["PERSON"], None) == []


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Szabina J Gelencsér and Tomomi Nishiyama signed.", ["Szabina J Gelencsér", "Tomomi Nishiyama"]),
        ("Elínborg Guðmundsdóttir did not sign.", ["Elínborg Guðmundsdóttir"]),
        (
            "Invite Efimiya, Mary, Ariana, Isabel, Teresa and Jodi.",
            ["Mary", "Ariana", "Isabel", "Teresa", "Jodi"],
        ),
        ("Our founders: Kónya, Becker and Vasquez met at university.", ["Kónya", "Becker", "Vasquez"]),
        ("Why is Katrine so impulsive?", ["Katrine"]),
    ],
)
def test_names_are_found(found, text, names):
    assert set(names) <= set(found(text))


@pytest.mark.parametrize(
    "text",
    [
        "Grace and Hope are virtues; Will you Mark the page? The Summer sale starts on Monday.",
        "In June we shipped the new model, and in May the Galaxy Pro followed.",
        "Please install Python, Docker and Kubernetes before the Tuesday workshop.",
        "The Federal Reserve raised rates while Congress debated the Budget Act.",
        "Victoria Station is closed. Take the Jubilee Line to Canary Wharf.",
        "The Toyota Corolla and the Honda Civic are reliable cars. Ask Siri or Alexa.",
        "Read Chapter Seven of the Handbook. Section Four covers Security Policy.",
        "We flew from Paris to China via London in March.",
    ],
)
def test_ordinary_capitalised_words_are_left_alone(found, text):
    assert found(text) == []
