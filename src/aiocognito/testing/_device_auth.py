"""Device authentication in a sign-in: DEVICE_SRP_AUTH and DEVICE_PASSWORD_VERIFIER.

A sign-in that presents a confirmed device's DEVICE_KEY proves the device's secret by SRP (against the
verifier ConfirmDevice stored, see ``_devices``) before MFA; a *remembered* device then skips MFA.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import errors
from . import _rules
from ._auth_types import Advance, Response
from ._devices import DeviceService
from ._rules import INCORRECT, INVALID_SESSION
from ._sessions import ChallengeSessions
from ._srp_server import SrpServer
from ._state import ChallengeState, PoolState

__all__ = ["DeviceAuth"]


class DeviceAuth:
    """Answers DEVICE_SRP_AUTH (with DEVICE_PASSWORD_VERIFIER) and checks the device's proof."""

    def __init__(
        self,
        state: PoolState,
        sessions: ChallengeSessions,
        srp: SrpServer,
        devices: DeviceService,
        advance: Advance,
    ) -> None:
        self.state = state
        self.sessions = sessions
        self.srp = srp
        self.devices = devices
        self.advance = advance

    def __repr__(self) -> str:
        return "<DeviceAuth>"

    def answer_device_srp(
        self, handle: str, challenge: ChallengeState, responses: Mapping[str, Any]
    ) -> Response:
        _rules.require(responses, "DEVICE_KEY", "SRP_A", where="ChallengeResponses")
        sign_in = challenge.sign_in
        device_key = str(responses["DEVICE_KEY"])
        if device_key != sign_in.device_key:
            raise errors.NotAuthorizedException(INVALID_SESSION)
        device = self.devices.confirmed(device_key, (sign_in.user_pool_id, sign_in.sub))
        a_hex = self.srp.check_srp_a(responses["SRP_A"])
        srp = self.srp.srp_state(device.group_key, device.device_key, device.salt, device.verifier, a_hex)
        parameters = {**srp.challenge_parameters(), "DEVICE_KEY": device_key}
        return self.sessions.issue(sign_in, "DEVICE_PASSWORD_VERIFIER", parameters, srp=srp)

    def answer_device_verifier(
        self, handle: str, challenge: ChallengeState, responses: Mapping[str, Any]
    ) -> Response:
        _rules.require(
            responses,
            "DEVICE_KEY",
            "PASSWORD_CLAIM_SIGNATURE",
            "PASSWORD_CLAIM_SECRET_BLOCK",
            "TIMESTAMP",
            where="ChallengeResponses",
        )
        sign_in = challenge.sign_in
        assert challenge.srp is not None
        if str(responses["DEVICE_KEY"]) != challenge.srp.srp_user_id:
            raise errors.NotAuthorizedException(INVALID_SESSION)
        device = self.devices.confirmed(challenge.srp.srp_user_id, (sign_in.user_pool_id, sign_in.sub))
        if not self.srp.srp_ok(challenge.srp, responses):
            raise errors.NotAuthorizedException(INCORRECT)
        device.last_authenticated_at = self.state.now()
        sign_in.device_authenticated = True
        sign_in.done.add("device")
        if device.remembered:
            sign_in.skip_mfa = True
        return self.advance(sign_in)
