"""Build data/pii/names.json.gz, the name gazetteer of deploysim.privacy.names, from names-dataset.

    pip install names-dataset==3.3.1   # build time only: the pipeline never imports it (55 MB of pickles)
    apt-get install wamerican          # SCOWL's American English word list, /usr/share/dict/words
    python scripts/build_name_gazetteer.py

names-dataset holds first and last names seen on Facebook in 105 countries, each with its rank per
country. A name is kept when it ranks within --max-rank in at least one country, so a Hungarian or
Icelandic name common at home is kept as surely as an English one. Entries are single words of letters
(with inner hyphens or apostrophes), capitalised, of two letters or more.

Names that are also ordinary English words are the precision risk ("Will", "Mark", "Grace", "Brown"),
so each kept name is checked against three stoplists:

- dropped outright: spaCy's English stop words ("The", "Will"), month and weekday names, country names
  (pycountry, a names-dataset dependency) and a short explicit list of words that pass the other tests
  but are mostly not names in running text;
- flagged ``common``: the word appears in lower case in SCOWL's size-50 American word list (the list
  Debian ships as wamerican), i.e. it is an everyday English word ("mark", "grace", "brown", "john"
  the slang word too). The recognizer uses these only inside a name that has other evidence.

The SCOWL lower-case words themselves are stored too (``english``): the recognizer uses them to tell an
unknown capitalised word after a first name ("Nishiyama") from an English one ("Station").

The output is deterministic: sorted lists, compact JSON, gzip with mtime 0.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.metadata
import importlib.util
import json
import pickle
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "data" / "pii" / "names.json.gz"

_NAME_SHAPE = re.compile(r"^[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]))+$")

MONTHS_AND_DAYS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
]
#: Words that the stoplists below do not catch (proper nouns in SCOWL, or capitalised in use) but that
#: are far more often a place, a brand, a title or a greeting than a person in running text.
EXPLICIT = [
    "Will",
    "May",
    "Mark",
    "Grace",
    "Hope",
    "Bill",
    "Rose",
    "Summer",
    "Paris",
    "China",
    "India",
    "Jordan",
    "Israel",
    "Georgia",
    "Virginia",
    "Carolina",
    "Florida",
    "Dakota",
    "Austin",
    "Houston",
    "Dallas",
    "Denver",
    "Phoenix",
    "Sydney",
    "London",
    "Berlin",
    "Vienna",
    "Rome",
    "Africa",
    "America",
    "Asia",
    "Europe",
    "Australia",
    "Christmas",
    "Easter",
    "God",
    "Jesus",
    "Allah",
    "Lord",
    "Christ",
    "Islam",
    "Muslim",
    "Google",
    "Amazon",
    "Apple",
    "Microsoft",
    "Facebook",
    "Twitter",
    "Instagram",
    "Tesla",
    "Toyota",
    "Honda",
    "Mercedes",
    "Nike",
    "Adidas",
    "Samsung",
    "Android",
    "Windows",
    "Linux",
    "Python",
    "Java",
    "Oracle",
    "Alexa",
    "Siri",
    "Hello",
    "Thanks",
    "Thank",
    "Welcome",
    "Dear",
    "Sir",
    "Madam",
    "Mister",
    "Miss",
    "Mrs",
    "Mr",
    "Ms",
    "Dr",
    "Prof",
    "Doctor",
    "Professor",
    "President",
    "King",
    "Queen",
    "Prince",
    "Princess",
    "Saint",
    "English",
    "French",
    "German",
    "Spanish",
    "Italian",
    "Chinese",
    "Japanese",
    "Russian",
    "Arabic",
    "Hindi",
    "Latin",
    "Greek",
    "Dutch",
    "Polish",
    "Turkish",
    "Korean",
    "Thai",
    "Irish",
    "Scottish",
    "Welsh",
    "British",
    "American",
    "Canadian",
    "Mexican",
    "African",
    "Asian",
    "European",
    "Internet",
    "Ok",
    "Okay",
    "Yes",
    "No",
    "Hi",
    "Hey",
    "Bye",
    "Please",
    "Sorry",
    "Pro",
    "Max",
    "Mini",
    "Plus",
    "Ultra",
    "Lite",
    "Premium",
]


def _package_file(package: str, relative: str) -> Path:
    spec = importlib.util.find_spec(package)  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{package} is not installed: pip install names-dataset==3.3.1")
    return Path(next(iter(spec.submodule_search_locations))) / relative


def _best_ranks(path: Path) -> dict[str, int]:
    """Name -> its best (smallest) rank over all countries; names ranked nowhere are left out."""
    with gzip.open(path, "rb") as handle:
        table = pickle.load(handle)  # about 1 GB resident while it lives
    best = {name: min(info["rank"].values()) for name, info in table.items() if info.get("rank")}
    del table
    return best


def _country_words() -> set[str]:
    import pycountry

    words: set[str] = set()
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name"):
            value = getattr(country, attribute, None)
            if value and " " not in value:
                words.add(value)
    return words


def _spacy_stop_words() -> set[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return {word.casefold() for word in STOP_WORDS}


def build(max_rank: int, words_path: Path) -> dict[str, object]:
    english = {line.strip() for line in words_path.read_text().splitlines()}
    english_lower = {w for w in english if w.isalpha() and w.islower() and len(w) > 1}
    dropped = {w.casefold() for w in (*MONTHS_AND_DAYS, *EXPLICIT, *_country_words())}
    dropped |= _spacy_stop_words()

    def keep(name: str) -> bool:
        return (
            bool(_NAME_SHAPE.match(name))
            and name[0].isupper()
            and not name.isupper()
            and name.casefold() not in dropped
        )

    lists: dict[str, list[str]] = {}
    for key, filename in (("first", "v3/first_names.pkl.gz"), ("last", "v3/last_names.pkl.gz")):
        ranks = _best_ranks(_package_file("names_dataset", filename))
        lists[key] = sorted(name for name, rank in ranks.items() if rank <= max_rank and keep(name))
        del ranks
    names = set(lists["first"]) | set(lists["last"])
    common = sorted(name for name in names if name.casefold() in english_lower or len(name) < 3)
    return {
        "source": f"names-dataset {importlib.metadata.version('names-dataset')}",
        "max_rank": max_rank,
        "first": lists["first"],
        "last": lists["last"],
        "common": common,
        "english": sorted(english_lower),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-rank", type=int, default=5000, help="best rank in some country (default 5000)")
    parser.add_argument("--words", type=Path, default=Path("/usr/share/dict/words"))
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    gazetteer = build(args.max_rank, args.words)
    payload = json.dumps(gazetteer, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))
    print(
        f"{args.output}: {args.output.stat().st_size / 1e6:.2f} MB; {len(gazetteer['first'])} first names, "
        f"{len(gazetteer['last'])} last names, {len(gazetteer['common'])} flagged common, "
        f"{len(gazetteer['english'])} English words"
    )


if __name__ == "__main__":
    main()
