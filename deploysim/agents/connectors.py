"""Read-only connectors: the airline tools that read state (or none), printed as the real tools print.

Each takes the rollout's overlay and the call's keyword arguments and returns the output string. Records are
printed with ``json.dumps`` defaults (``", "`` and ``": "`` separators, record key order), and the error texts
are the real tool's, quirks included: an unknown reservation reads "Error: user not found".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from deploysim.agents.calculator import calculate as _calculate
from deploysim.agents.overlay import Overlay

AIRPORTS = {
    "SFO": "San Francisco",
    "JFK": "New York",
    "LAX": "Los Angeles",
    "ORD": "Chicago",
    "DFW": "Dallas",
    "DEN": "Denver",
    "SEA": "Seattle",
    "ATL": "Atlanta",
    "MIA": "Miami",
    "BOS": "Boston",
    "PHX": "Phoenix",
    "IAH": "Houston",
    "LAS": "Las Vegas",
    "MCO": "Orlando",
    "EWR": "Newark",
    "CLT": "Charlotte",
    "MSP": "Minneapolis",
    "DTW": "Detroit",
    "PHL": "Philadelphia",
    "LGA": "LaGuardia",
}


def get_user_details(state: Overlay, user_id: str) -> str:
    user = state.get("users", user_id)
    return json.dumps(user) if user is not None else "Error: user not found"


def get_reservation_details(state: Overlay, reservation_id: str) -> str:
    reservation = state.get("reservations", reservation_id)
    # The real tool's text for a missing reservation.
    return json.dumps(reservation) if reservation is not None else "Error: user not found"


def _leg(flight: dict[str, Any], day_record: dict[str, Any]) -> dict[str, Any]:
    leg = {key: value for key, value in flight.items() if key != "dates"}
    leg.update(day_record)
    return leg


def search_direct_flight(state: Overlay, origin: str, destination: str, date: str) -> str:
    results = [
        _leg(flight, flight["dates"][date])
        for flight in state.values("flights")
        if flight["origin"] == origin
        and flight["destination"] == destination
        and date in flight["dates"]
        and flight["dates"][date]["status"] == "available"
    ]
    return json.dumps(results)


def search_onestop_flight(state: Overlay, origin: str, destination: str, date: str) -> str:
    flights = list(state.values("flights"))
    results = []
    for first in flights:
        if first["origin"] != origin:
            continue
        for second in flights:
            if second["destination"] != destination or first["destination"] != second["origin"]:
                continue
            # The real tool's next-day date is not zero-padded ("2024-05-6"), so such a leg never matches.
            second_date = (
                f"2024-05-{int(date[-2:]) + 1}" if "+1" in first["scheduled_arrival_time_est"] else date
            )
            if first["scheduled_arrival_time_est"] > second["scheduled_departure_time_est"]:
                continue
            if date not in first["dates"] or second_date not in second["dates"]:
                continue
            if (
                first["dates"][date]["status"] != "available"
                or second["dates"][second_date]["status"] != "available"
            ):
                continue
            first_leg = {**_leg(first, first["dates"][date]), "date": date}
            # The real tool prints the second leg's record for the first leg's date.
            second_leg = {**_leg(second, second["dates"][date]), "date": second_date}
            results.append([first_leg, second_leg])
    return json.dumps(results)


def list_all_airports(state: Overlay) -> str:
    return json.dumps(AIRPORTS)


def calculate(state: Overlay, expression: str) -> str:
    return _calculate(expression)


def think(state: Overlay, thought: str) -> str:
    return ""


def transfer_to_human_agents(state: Overlay, summary: str) -> str:
    return "Transfer successful"


READ_ONLY: dict[str, Callable[..., str]] = {
    "get_user_details": get_user_details,
    "get_reservation_details": get_reservation_details,
    "search_direct_flight": search_direct_flight,
    "search_onestop_flight": search_onestop_flight,
    "list_all_airports": list_all_airports,
    "calculate": calculate,
    "think": think,
    "transfer_to_human_agents": transfer_to_human_agents,
}
