"""A tiny airline environment shaped like the real one, small enough to reason about in a test."""

from __future__ import annotations

import copy
from typing import Any

from deploysim.agents.snapshot import Snapshot, snapshot_from_tables


def _seats(count: int) -> dict[str, int]:
    return {"basic_economy": count, "economy": count, "business": count}


def _available(price: int, seats: int = 9) -> dict[str, Any]:
    return {
        "status": "available",
        "available_seats": _seats(seats),
        "prices": {"basic_economy": price // 2, "economy": price, "business": price * 3},
    }


LANDED = {
    "status": "landed",
    "actual_departure_time_est": "2024-05-10T06:05:00",
    "actual_arrival_time_est": "2024-05-10T12:01:00",
}


def _flight(number: str, origin: str, destination: str, leaves: str, arrives: str, dates: dict) -> dict:
    return {
        "flight_number": number,
        "origin": origin,
        "destination": destination,
        "scheduled_departure_time_est": leaves,
        "scheduled_arrival_time_est": arrives,
        "dates": dates,
    }


TABLES: dict[str, Any] = {
    "users": {
        "ana_ruiz_1": {
            "name": {"first_name": "Ana", "last_name": "Ruiz"},
            "address": {"city": "Austin", "country": "USA", "state": "TX", "zip": "78750"},
            "email": "ana.ruiz@example.com",
            "dob": "1990-04-05",
            "payment_methods": {
                "credit_card_1": {
                    "source": "credit_card",
                    "brand": "visa",
                    "last_four": "7447",
                    "id": "credit_card_1",
                },
                "gift_card_1": {"source": "gift_card", "amount": 150, "id": "gift_card_1"},
                "certificate_1": {"source": "certificate", "amount": 100, "id": "certificate_1"},
            },
            "saved_passengers": [],
            "membership": "gold",
            "reservations": ["ABC123"],
        }
    },
    "reservations": {
        "ABC123": {
            "reservation_id": "ABC123",
            "user_id": "ana_ruiz_1",
            "origin": "JFK",
            "destination": "SEA",
            "flight_type": "one_way",
            "cabin": "economy",
            "flights": [
                {
                    "origin": "JFK",
                    "destination": "SEA",
                    "flight_number": "HAT001",
                    "date": "2024-05-20",
                    "price": 200,
                }
            ],
            "passengers": [{"first_name": "Ana", "last_name": "Ruiz", "dob": "1990-04-05"}],
            "payment_history": [{"payment_id": "credit_card_1", "amount": 200}],
            "created_at": "2024-05-01T10:00:00",
            "total_baggages": 1,
            "nonfree_baggages": 0,
            "insurance": "no",
        }
    },
    "flights": {
        "HAT001": _flight(
            "HAT001",
            "JFK",
            "SEA",
            "06:00:00",
            "12:00:00",
            {"2024-05-10": LANDED, "2024-05-20": _available(200), "2024-05-21": _available(210, seats=0)},
        ),
        "HAT002": _flight("HAT002", "SEA", "LAX", "14:00:00", "16:00:00", {"2024-05-20": _available(100)}),
        "HAT003": _flight(
            "HAT003",
            "JFK",
            "ORD",
            "22:00:00",
            "01:00:00+1",
            {"2024-05-08": _available(90), "2024-05-20": _available(90)},
        ),
        "HAT004": _flight(
            "HAT004",
            "ORD",
            "SEA",
            "08:00:00",
            "10:00:00",
            {"2024-05-09": _available(80), "2024-05-20": _available(70), "2024-05-21": _available(80)},
        ),
    },
}


def tiny_snapshot() -> Snapshot:
    return snapshot_from_tables(copy.deepcopy(TABLES))
