import json

import pytest

from deploysim.inference.backends import OpenAIBackend
from deploysim.inference.secrets import REDACTED, scrub_secrets, strip_credentials

# Assembled at run time so that secret scanners do not flag this file.
KEY = "sk-" + "canary" + "0123456789abcdefABCDEF"


@pytest.mark.parametrize(
    "echo",
    [
        f"Error code: 401 - you sent Authorization: Bearer {KEY}",
        json.dumps({"error": {"headers": {"Authorization": f"Bearer {KEY}"}}}),
        str({"authorization": f"Bearer {KEY}", "x": 1}),
        f"api-key: {KEY}\r\nhost: h",
        f"proxy said: token {KEY}",
        f"the key {KEY} is not valid",
    ],
)
def test_a_key_echoed_in_any_shape_is_removed(echo):
    scrubbed = scrub_secrets(echo, [KEY])
    assert KEY not in scrubbed and REDACTED in scrubbed
    assert "canary0123" not in scrubbed


def test_headers_and_bearer_tokens_go_even_when_the_key_is_not_known():
    text = 'echo: {"Authorization": "Bearer abcdef123456", "api-key": "zz9-plural-z-alpha"}'
    scrubbed = scrub_secrets(text)
    assert "abcdef123456" not in scrubbed and "zz9-plural-z-alpha" not in scrubbed
    assert scrubbed == f'echo: {{"Authorization": "{REDACTED}", "api-key": "{REDACTED}"}}'
    assert scrub_secrets("Authorization: Basic dXNlcjpwYXNzd29yZA==") == f"Authorization: {REDACTED}"


def test_url_credentials_are_removed_from_text_and_from_stored_urls():
    text = "cannot reach https://alice:s3cr3t-pw@gateway.example/v1 (timeout)"
    assert scrub_secrets(text) == f"cannot reach https://{REDACTED}@gateway.example/v1 (timeout)"
    assert (
        strip_credentials("https://alice:s3cr3t-pw@gateway.example:8443/v1")
        == "https://gateway.example:8443/v1"
    )
    assert strip_credentials("http://127.0.0.1:9/v1") == "http://127.0.0.1:9/v1"
    backend = OpenAIBackend(base_url="https://alice:s3cr3t%2Fpw@gateway.example/v1/", model="m")
    assert backend.address == "openai:https://gateway.example/v1#m"
    assert {"alice", "s3cr3t%2Fpw", "s3cr3t/pw"} <= set(backend.credentials)


def test_ordinary_text_is_left_alone():
    text = (
        "server error: InternalServerError: Error code: 500 - the model is overloaded; mail ops@example.org"
    )
    assert scrub_secrets(text, ["", None, "ab"]) == text
    assert scrub_secrets(scrub_secrets(f"Authorization: Bearer {KEY}", [KEY])) == f"Authorization: {REDACTED}"
