"""Write tools, applied to the rollout's overlay only, with the real tools' checks, effects and error texts.

Every check runs before the first write, as in the real tools, so a refused call leaves the overlay as it
was. Like the real environment, no write changes a flight's seat counts.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from deploysim.agents.overlay import Overlay

#: The real tool books at a fixed time and assumes at most three bookings per conversation.
BOOKED_AT = "2024-05-15T15:00:00"
NEW_RESERVATION_IDS = ("HATHAT", "HATHAU", "HATHAV")
NEW_CERTIFICATE_IDS = ("certificate_3221322", "certificate_3221323", "certificate_3221324")
STORED_VALUE = ("gift_card", "certificate")


def _price_leg(state: Overlay, leg: dict[str, Any], cabin: str, travellers: int) -> str | None:
    """Fill a requested leg's price and airports from the flight table, or say why it cannot be flown."""
    number = leg["flight_number"]
    flight = state.get("flights", number)
    if flight is None:
        return f"Error: flight {number} not found"
    if leg["date"] not in flight["dates"]:
        return f"Error: flight {number} not found on date {leg['date']}"
    day = flight["dates"][leg["date"]]
    if day["status"] != "available":
        return f"Error: flight {number} not available on date {leg['date']}"
    if day["available_seats"][cabin] < travellers:
        return f"Error: not enough seats on flight {number}"
    leg["price"] = day["prices"][cabin]
    leg["origin"] = flight["origin"]
    leg["destination"] = flight["destination"]
    return None


def book_reservation(
    state: Overlay,
    user_id: str,
    origin: str,
    destination: str,
    flight_type: str,
    cabin: str,
    flights: list[dict[str, Any]],
    passengers: list[dict[str, Any]],
    payment_methods: list[dict[str, Any]],
    total_baggages: int,
    nonfree_baggages: int,
    insurance: str,
) -> str:
    user = state.get("users", user_id)
    if user is None:
        return "Error: user not found"
    reservation_id = next(
        (rid for rid in NEW_RESERVATION_IDS[:-1] if not state.contains("reservations", rid)),
        NEW_RESERVATION_IDS[-1],
    )
    legs = copy.deepcopy(flights)
    total = 0
    for leg in legs:
        refusal = _price_leg(state, leg, cabin, len(passengers))
        if refusal:
            return refusal
        total += leg["price"] * len(passengers)
    if insurance == "yes":
        total += 30 * len(passengers)
    total += 50 * nonfree_baggages
    for payment in payment_methods:
        method = user["payment_methods"].get(payment["payment_id"])
        if method is None:
            return f"Error: payment method {payment['payment_id']} not found"
        if method["source"] in STORED_VALUE and method["amount"] < payment["amount"]:
            return f"Error: not enough balance in payment method {payment['payment_id']}"
    paid = sum(payment["amount"] for payment in payment_methods)
    if paid != total:
        return f"Error: payment amount does not add up, total price is {total}, but paid {paid}"

    user = state.writable("users", user_id)
    for payment in payment_methods:
        method = user["payment_methods"][payment["payment_id"]]
        if method["source"] == "gift_card":
            method["amount"] -= payment["amount"]
        elif method["source"] == "certificate":
            del user["payment_methods"][payment["payment_id"]]
    reservation = {
        "reservation_id": reservation_id,
        "user_id": user_id,
        "origin": origin,
        "destination": destination,
        "flight_type": flight_type,
        "cabin": cabin,
        "flights": legs,
        "passengers": passengers,
        "payment_history": payment_methods,
        "created_at": BOOKED_AT,
        "total_baggages": total_baggages,
        "nonfree_baggages": nonfree_baggages,
        "insurance": insurance,
    }
    state.insert("reservations", reservation_id, reservation)
    user["reservations"].append(reservation_id)
    return json.dumps(reservation)


def cancel_reservation(state: Overlay, reservation_id: str) -> str:
    if not state.contains("reservations", reservation_id):
        return "Error: reservation not found"
    reservation = state.writable("reservations", reservation_id)
    refunds = [
        {"payment_id": p["payment_id"], "amount": -p["amount"]} for p in reservation["payment_history"]
    ]
    reservation["payment_history"].extend(refunds)
    reservation["status"] = "cancelled"
    return json.dumps(reservation)


def _charge_check(state: Overlay, user_id: str, payment_id: str, amount: float) -> str | None:
    method = state.get("users", user_id)["payment_methods"].get(payment_id)
    if method is None:
        return "Error: payment method not found"
    if method["source"] == "certificate":
        return "Error: certificate cannot be used to update reservation"
    if method["source"] == "gift_card" and method["amount"] < amount:
        return "Error: gift card balance is not enough"
    return None


def _charge(state: Overlay, reservation: dict[str, Any], payment_id: str, amount: float) -> None:
    method = state.get("users", reservation["user_id"])["payment_methods"][payment_id]
    if method["source"] == "gift_card":
        state.writable("users", reservation["user_id"])["payment_methods"][payment_id]["amount"] -= amount
    if amount != 0:
        reservation["payment_history"].append({"payment_id": payment_id, "amount": amount})


def update_reservation_baggages(
    state: Overlay, reservation_id: str, total_baggages: int, nonfree_baggages: int, payment_id: str
) -> str:
    current = state.get("reservations", reservation_id)
    if current is None:
        return "Error: reservation not found"
    price = 50 * max(0, nonfree_baggages - current["nonfree_baggages"])
    refusal = _charge_check(state, current["user_id"], payment_id, price)
    if refusal:
        return refusal
    reservation = state.writable("reservations", reservation_id)
    reservation["total_baggages"] = total_baggages
    reservation["nonfree_baggages"] = nonfree_baggages
    _charge(state, reservation, payment_id, price)
    return json.dumps(reservation)


def update_reservation_flights(
    state: Overlay, reservation_id: str, cabin: str, flights: list[dict[str, Any]], payment_id: str
) -> str:
    current = state.get("reservations", reservation_id)
    if current is None:
        return "Error: reservation not found"
    travellers = len(current["passengers"])
    legs = copy.deepcopy(flights)
    total = 0
    for leg in legs:
        kept = [
            old
            for old in current["flights"]
            if old["flight_number"] == leg["flight_number"]
            and old["date"] == leg["date"]
            and cabin == current["cabin"]
        ]
        if kept:
            # A leg already held in the same cabin keeps its booked price.
            leg.update(price=kept[0]["price"], origin=kept[0]["origin"], destination=kept[0]["destination"])
        else:
            refusal = _price_leg(state, leg, cabin, travellers)
            if refusal:
                return refusal
        total += leg["price"] * travellers
    total -= sum(old["price"] for old in current["flights"]) * travellers
    refusal = _charge_check(state, current["user_id"], payment_id, total)
    if refusal:
        return refusal
    reservation = state.writable("reservations", reservation_id)
    reservation["flights"] = legs
    _charge(state, reservation, payment_id, total)
    return json.dumps(reservation)


def update_reservation_passengers(
    state: Overlay, reservation_id: str, passengers: list[dict[str, Any]]
) -> str:
    current = state.get("reservations", reservation_id)
    if current is None:
        return "Error: reservation not found"
    if len(passengers) != len(current["passengers"]):
        return "Error: number of passengers does not match"
    reservation = state.writable("reservations", reservation_id)
    reservation["passengers"] = passengers
    return json.dumps(reservation)


def send_certificate(state: Overlay, user_id: str, amount: float) -> str | None:
    user = state.get("users", user_id)
    if user is None:
        return "Error: user not found"
    for certificate_id in NEW_CERTIFICATE_IDS:
        if certificate_id not in user["payment_methods"]:
            methods = state.writable("users", user_id)["payment_methods"]
            methods[certificate_id] = {"source": "certificate", "amount": amount, "id": certificate_id}
            return f"Certificate {certificate_id} added to user {user_id} with amount {amount}."
    # The real tool returns nothing once its three certificate ids are used.
    return None


WRITES: dict[str, Callable[..., str | None]] = {
    "book_reservation": book_reservation,
    "cancel_reservation": cancel_reservation,
    "update_reservation_baggages": update_reservation_baggages,
    "update_reservation_flights": update_reservation_flights,
    "update_reservation_passengers": update_reservation_passengers,
    "send_certificate": send_certificate,
}
