"""The three arms every rate is measured on."""

from __future__ import annotations

from enum import StrEnum


class Arm(StrEnum):
    """Who produced a response after a prefix.

    - PRODUCTION: what the prior model really served (observed behaviour);
    - PRIOR: the prior model regenerated on the sampled prefix (the control);
    - CANDIDATE: the release being simulated, regenerated on the same prefix.
    """

    PRODUCTION = "production"
    PRIOR = "prior"
    CANDIDATE = "candidate"


#: The simulated arms, in the order they are regenerated.
SIMULATED = (Arm.CANDIDATE, Arm.PRIOR)
