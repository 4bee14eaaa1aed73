import json

import pytest

from deploysim.agents.simulator import Provenance, ToolLayer
from deploysim.core.hashing import content_hash
from tests.unit.agents.tiny_env import tiny_snapshot

BOOKING = {
    "user_id": "ana_ruiz_1",
    "origin": "SEA",
    "destination": "LAX",
    "flight_type": "one_way",
    "cabin": "economy",
    "flights": [{"flight_number": "HAT002", "date": "2024-05-20"}],
    "passengers": [{"first_name": "Ana", "last_name": "Ruiz", "dob": "1990-04-05"}],
    "payment_methods": [{"payment_id": "credit_card_1", "amount": 130}],
    "total_baggages": 1,
    "nonfree_baggages": 0,
    "insurance": "yes",
}


def _frozen(snapshot) -> str:
    return content_hash({name: dict(table) for name, table in snapshot.tables.items()})


@pytest.fixture
def layer():
    return ToolLayer(tiny_snapshot())


def test_booking_is_read_back_in_the_same_rollout_only(layer):
    before = _frozen(layer.snapshot)
    first, second = layer.rollout(), layer.rollout()
    booked = first.call("book_reservation", BOOKING)
    assert booked.provenance is Provenance.OVERLAY
    reservation = json.loads(booked.output)
    assert reservation["reservation_id"] == "HATHAT" and reservation["flights"][0]["price"] == 100
    read = first.call("get_reservation_details", {"reservation_id": "HATHAT"})
    assert json.loads(read.output) == reservation and read.provenance is Provenance.OVERLAY
    assert (
        "HATHAT"
        in json.loads(first.call("get_user_details", {"user_id": "ana_ruiz_1"}).output)["reservations"]
    )
    # The next booking in the rollout takes the next id; another rollout never saw either.
    assert json.loads(first.call("book_reservation", BOOKING).output)["reservation_id"] == "HATHAU"
    assert (
        second.call("get_reservation_details", {"reservation_id": "HATHAT"}).output == "Error: user not found"
    )
    untouched = second.call("get_user_details", {"user_id": "ana_ruiz_1"})
    assert untouched.provenance is Provenance.CONNECTOR
    assert json.loads(untouched.output)["reservations"] == ["ABC123"]
    assert _frozen(layer.snapshot) == before


def test_a_cancelled_reservation_reads_as_cancelled_with_its_refunds(layer):
    rollout = layer.rollout()
    rollout.call("cancel_reservation", {"reservation_id": "ABC123"})
    reservation = json.loads(rollout.call("get_reservation_details", {"reservation_id": "ABC123"}).output)
    assert reservation["status"] == "cancelled"
    assert reservation["payment_history"][-1] == {"payment_id": "credit_card_1", "amount": -200}
    assert "status" not in json.loads(
        layer.rollout().call("get_reservation_details", {"reservation_id": "ABC123"}).output
    )


def test_stored_value_is_spent_in_the_overlay(layer):
    rollout = layer.rollout()
    paid = {
        **BOOKING,
        "payment_methods": [
            {"payment_id": "certificate_1", "amount": 100},
            {"payment_id": "gift_card_1", "amount": 30},
        ],
    }
    assert not rollout.call("book_reservation", paid).is_error
    methods = json.loads(rollout.call("get_user_details", {"user_id": "ana_ruiz_1"}).output)[
        "payment_methods"
    ]
    assert "certificate_1" not in methods and methods["gift_card_1"]["amount"] == 120
    again = rollout.call("book_reservation", paid)
    assert again.output == "Error: payment method certificate_1 not found"


def test_bags_and_flight_changes_charge_the_difference(layer):
    rollout = layer.rollout()
    bags = {
        "reservation_id": "ABC123",
        "total_baggages": 3,
        "nonfree_baggages": 2,
        "payment_id": "gift_card_1",
    }
    assert json.loads(rollout.call("update_reservation_baggages", bags).output)["payment_history"][-1] == {
        "payment_id": "gift_card_1",
        "amount": 100,
    }
    assert rollout.call("update_reservation_baggages", bags).output.startswith('{"reservation_id"')
    change = {
        "reservation_id": "ABC123",
        "cabin": "economy",
        "payment_id": "gift_card_1",
        "flights": [
            {"flight_number": "HAT003", "date": "2024-05-20"},
            {"flight_number": "HAT004", "date": "2024-05-21"},
        ],
    }
    # 90 + 80 - 200 = -30: a refund to the gift card, which then holds 50 + 30.
    changed = json.loads(rollout.call("update_reservation_flights", change).output)
    assert [leg["flight_number"] for leg in changed["flights"]] == ["HAT003", "HAT004"]
    assert changed["payment_history"][-1]["amount"] == -30
    methods = json.loads(rollout.call("get_user_details", {"user_id": "ana_ruiz_1"}).output)[
        "payment_methods"
    ]
    assert methods["gift_card_1"]["amount"] == 80


@pytest.mark.parametrize(
    ("tool", "arguments", "error"),
    [
        ("book_reservation", {**BOOKING, "user_id": "x"}, "Error: user not found"),
        (
            "book_reservation",
            {**BOOKING, "payment_methods": [{"payment_id": "credit_card_1", "amount": 100}]},
            "Error: payment amount does not add up, total price is 130, but paid 100",
        ),
        (
            "book_reservation",
            {**BOOKING, "flights": [{"flight_number": "HAT001", "date": "2024-05-21"}]},
            "Error: not enough seats on flight HAT001",
        ),
        (
            "book_reservation",
            {**BOOKING, "flights": [{"flight_number": "HAT001", "date": "2024-05-10"}]},
            "Error: flight HAT001 not available on date 2024-05-10",
        ),
        (
            "book_reservation",
            {**BOOKING, "flights": [{"flight_number": "HAT009", "date": "2024-05-10"}]},
            "Error: flight HAT009 not found",
        ),
        (
            "book_reservation",
            {**BOOKING, "payment_methods": [{"payment_id": "certificate_1", "amount": 130.0}]},
            "Error: not enough balance in payment method certificate_1",
        ),
        ("cancel_reservation", {"reservation_id": "NOPE"}, "Error: reservation not found"),
        (
            "update_reservation_baggages",
            {
                "reservation_id": "ABC123",
                "total_baggages": 2,
                "nonfree_baggages": 1,
                "payment_id": "certificate_1",
            },
            "Error: certificate cannot be used to update reservation",
        ),
        (
            "update_reservation_flights",
            {
                "reservation_id": "ABC123",
                "cabin": "business",
                "payment_id": "gift_card_1",
                "flights": [{"flight_number": "HAT001", "date": "2024-05-20"}],
            },
            "Error: gift card balance is not enough",
        ),
        (
            "update_reservation_flights",
            {"reservation_id": "ABC123", "cabin": "economy", "payment_id": "credit_card_9", "flights": []},
            "Error: payment method not found",
        ),
        (
            "update_reservation_passengers",
            {"reservation_id": "ABC123", "passengers": []},
            "Error: number of passengers does not match",
        ),
    ],
)
def test_refused_writes_use_the_real_error_texts_and_change_nothing(layer, tool, arguments, error):
    rollout = layer.rollout()
    assert rollout.call(tool, arguments).output == error
    assert rollout.state.changed("users") == {} and rollout.state.changed("reservations") == {}


def test_certificates_take_the_real_tools_ids_in_turn(layer):
    rollout = layer.rollout()
    outputs = [
        rollout.call("send_certificate", {"user_id": "ana_ruiz_1", "amount": 50}).output for _ in range(4)
    ]
    assert outputs[:3] == [
        f"Certificate certificate_{n} added to user ana_ruiz_1 with amount 50."
        for n in (3221322, 3221323, 3221324)
    ]
    assert outputs[3] is None
    methods = json.loads(rollout.call("get_user_details", {"user_id": "ana_ruiz_1"}).output)[
        "payment_methods"
    ]
    assert methods["certificate_3221322"] == {
        "source": "certificate",
        "amount": 50,
        "id": "certificate_3221322",
    }


def test_the_overlay_never_aliases_the_callers_arguments(layer):
    rollout = layer.rollout()
    arguments = json.loads(json.dumps(BOOKING))
    rollout.call("book_reservation", arguments)
    arguments["passengers"][0]["first_name"] = "Changed"
    stored = json.loads(rollout.call("get_reservation_details", {"reservation_id": "HATHAT"}).output)
    assert stored["passengers"][0]["first_name"] == "Ana"
