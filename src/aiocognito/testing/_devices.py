"""Remembered devices: issued at sign-in, confirmed with a verifier, remembered or not, listed, forgotten.

A device is issued (``NewDeviceMetadata``) when a sign-in in a pool with a DeviceConfiguration ends
without device authentication. ConfirmDevice stores its SRP verifier; from then on a sign-in presenting its
DEVICE_KEY goes through DEVICE_SRP_AUTH / DEVICE_PASSWORD_VERIFIER, and a *remembered* device skips MFA.
Unknown, unconfirmed, forgotten or another user's device keys are "Device does not exist."
"""

from __future__ import annotations

import base64
import string
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import errors
from .._errors import ProtocolError
from .._signin.srp import parse_device_verifier_config
from . import _rules
from ._lookups import Lookups
from ._state import Device, PoolState, UserKey

if TYPE_CHECKING:
    from ._records import User, UserPool

__all__ = ["DeviceService", "MAX_LIST_LIMIT"]

#: ListDevices/AdminListDevices: the model's maximum Limit, also the default.
MAX_LIST_LIMIT = 60
_NOT_FOUND = "Device does not exist."
_ALPHABET = string.ascii_letters + string.digits


class DeviceService:
    """The device operations and the device lookups the sign-in needs."""

    def __init__(self, state: PoolState, lookups: Lookups) -> None:
        self.state = state
        self.lookups = lookups  # the user of an admin call or an access token
        self._seq = 0

    def __repr__(self) -> str:
        return f"<DeviceService devices={len(self.state.devices)}>"

    # ----- used by the sign-in ---------------------------------------------------------------------------
    def issue(self, pool: UserPool, user: User) -> Device:
        """A new, unconfirmed device for this user (its NewDeviceMetadata)."""
        raw = self.state.random_bytes(25)
        device_key = f"{pool.region}_{uuid.UUID(bytes=raw[:16], version=4)}"
        group_key = "-" + "".join(_ALPHABET[b % len(_ALPHABET)] for b in raw[16:25])
        self._seq += 1
        now = self.state.now()
        device = Device(
            device_key, group_key, (pool.id, user.sub), created_at=now, modified_at=now, seq=self._seq
        )
        self.state.devices[device_key] = device
        return device

    def confirmed(self, device_key: str, user: UserKey) -> Device:
        """The user's confirmed device with this key; ResourceNotFoundException otherwise."""
        device = self.state.devices.get(device_key)
        if device is None or device.user != user or not device.confirmed:
            raise errors.ResourceNotFoundException(_NOT_FOUND)
        return device

    # ----- operations ------------------------------------------------------------------------------------
    def _owner(self, params: Mapping[str, Any], *, admin: bool) -> UserKey:
        if admin:
            pool, user = self.lookups.admin_user(params)
            return pool.id, user.sub
        _rules.require(params, "AccessToken")
        return self.lookups.token_user(params["AccessToken"])[2]

    def _device(self, params: Mapping[str, Any], owner: UserKey, *, confirmed: bool = True) -> Device:
        _rules.require(params, "DeviceKey")
        device = self.state.devices.get(str(params["DeviceKey"]))
        if device is None or device.user != owner or (confirmed and not device.confirmed):
            raise errors.ResourceNotFoundException(_NOT_FOUND)
        return device

    def confirm_device(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """ConfirmDevice: store the device's verifier; remembered now unless the pool asks the user."""
        owner = self._owner(params, admin=False)
        device = self._device(params, owner, confirmed=False)
        if device.confirmed:
            raise errors.DeviceKeyExistsException("Device key already exists.")
        config = params.get("DeviceSecretVerifierConfig")
        if not isinstance(config, dict):
            raise errors.InvalidParameterException("Missing required parameter DeviceSecretVerifierConfig")
        try:
            salt, verifier = parse_device_verifier_config(config)
        except ProtocolError as exc:
            raise errors.InvalidParameterException(str(exc)) from None
        found = self.lookups.user_by_key(owner)
        tracking = _rules.device_tracking(found[0]) if found else None
        ask_user = bool((tracking or {}).get("DeviceOnlyRememberedOnUserPrompt", False))
        device.confirmed = True
        device.remembered = not ask_user
        device.salt = salt
        device.verifier = verifier
        device.name = params.get("DeviceName") or None
        device.modified_at = self.state.now()
        return {"UserConfirmationNecessary": ask_user}

    def update_device_status(self, params: Mapping[str, Any], *, admin: bool) -> dict[str, Any]:
        """UpdateDeviceStatus / AdminUpdateDeviceStatus."""
        device = self._device(params, self._owner(params, admin=admin))
        status = params.get("DeviceRememberedStatus")
        if status not in ("remembered", "not_remembered"):
            raise errors.InvalidParameterException(
                "DeviceRememberedStatus must be remembered or not_remembered"
            )
        device.remembered = status == "remembered"
        device.modified_at = self.state.now()
        return {}

    def get_device(self, params: Mapping[str, Any], *, admin: bool) -> dict[str, Any]:
        """GetDevice / AdminGetDevice."""
        return {"Device": self._describe(self._device(params, self._owner(params, admin=admin)))}

    def forget_device(self, params: Mapping[str, Any], *, admin: bool) -> dict[str, Any]:
        """ForgetDevice / AdminForgetDevice: the key stops working for device SRP (and for refresh)."""
        device = self._device(params, self._owner(params, admin=admin), confirmed=False)
        del self.state.devices[device.device_key]
        return {}

    def list_devices(self, params: Mapping[str, Any], *, admin: bool) -> dict[str, Any]:
        """ListDevices / AdminListDevices: confirmed devices, oldest first, ``Limit`` (max 60) per page."""
        owner = self._owner(params, admin=admin)
        limit = params.get("Limit")
        if limit is None or limit == 0:
            limit = MAX_LIST_LIMIT
        if not isinstance(limit, int) or isinstance(limit, bool) or not 0 < limit <= MAX_LIST_LIMIT:
            raise errors.InvalidParameterException(f"Limit must be between 0 and {MAX_LIST_LIMIT}")
        after = 0
        token = params.get("PaginationToken")
        if token is not None:
            after = self._parse_token(token, owner)
        devices = sorted(
            (d for d in self.state.devices.values() if d.user == owner and d.confirmed and d.seq > after),
            key=lambda d: d.seq,
        )
        page = devices[:limit]
        response: dict[str, Any] = {"Devices": [self._describe(d) for d in page]}
        if len(devices) > limit:
            response["PaginationToken"] = self._make_token(page[-1].seq, owner)
        return response

    # ----- helpers ---------------------------------------------------------------------------------------
    @staticmethod
    def _make_token(seq: int, owner: UserKey) -> str:
        return base64.urlsafe_b64encode(f"{owner[1]}:{seq}".encode()).decode("ascii")

    @staticmethod
    def _parse_token(token: object, owner: UserKey) -> int:
        try:
            sub, _, seq = base64.urlsafe_b64decode(str(token).encode()).decode().rpartition(":")
            if sub != owner[1]:
                raise ValueError
            return int(seq)
        except (ValueError, UnicodeDecodeError):
            raise errors.InvalidParameterException("Invalid pagination token") from None

    def _describe(self, device: Device) -> dict[str, Any]:
        attributes = [
            {"Name": "device_status", "Value": "valid"},
            {
                "Name": "dev:device_remembered_status",
                "Value": "remembered" if device.remembered else "not_remembered",
            },
            {"Name": "last_ip_used", "Value": "127.0.0.1"},
        ]
        if device.name:
            attributes.insert(1, {"Name": "device_name", "Value": device.name})
        return {
            "DeviceKey": device.device_key,
            "DeviceAttributes": attributes,
            "DeviceCreateDate": device.created_at,
            "DeviceLastModifiedDate": device.modified_at,
            "DeviceLastAuthenticatedDate": device.last_authenticated_at or device.created_at,
        }
