"""Remembered devices: confirming the device of a sign-in, forgetting it, and the device store records.

:class:`RememberedDevices` is a mixin of :class:`~aiocognito._signin.session.Session`. A confirmed device is
stored per ``(pool, username)`` under the real username and the typed alias; later sign-ins answer
DEVICE_SRP_AUTH with it by themselves (see ``flow.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._errors import ServiceError, SignInError
from .._tokens.token_set import TokenSet
from .events import ClientConfig, NewDevice, Request
from .srp import new_device_secret
from .stores import DeviceRecord, DeviceStore

__all__ = ["RememberedDevices"]


class RememberedDevices:
    """ConfirmDevice / UpdateDeviceStatus / ForgetDevice for a Session, and its device store records."""

    if TYPE_CHECKING:  # provided by Session
        config: ClientConfig
        _devices: DeviceStore
        _device_key: str | None
        _new_device: NewDevice | None
        _username: str | None
        _random_bytes: Callable[[int], bytes]

        @property
        def username(self) -> str | None: ...

        async def _call(self, request: Request) -> dict[str, Any]: ...

        async def _fresh_tokens(self) -> TokenSet: ...

    def _device_store_names(self) -> list[str]:
        names = [self.username or "", self._username or ""]
        return [n for n in dict.fromkeys(names) if n]

    async def _forget_device_locally(self, names: list[str], *, device_key: str | None = None) -> None:
        """Delete the stored device of each name (only records of ``device_key`` when given)."""
        pool = self.config.user_pool_id
        for name in dict.fromkeys(n for n in names if n):
            if device_key is not None:
                record = await self._devices.get(pool, name)
                if record is None or record.device_key != device_key:
                    continue
            await self._devices.delete(pool, name)
        if device_key is None or self._device_key == device_key:
            self._device_key = None

    async def remember_device(self, name: str | None = None) -> str:
        """Confirm the device of the last sign-in (ConfirmDevice, then UpdateDeviceStatus "remembered" when
        the pool asks the user) and store it; later sign-ins use device SRP. Returns the DeviceKey.

        Raises:
            SignInError: the last sign-in returned no NewDeviceMetadata (the pool's DeviceConfiguration is
                not set, or the device is already remembered).
        """
        new = self._new_device
        if new is None:
            raise SignInError(
                "no new device to remember: the last sign-in returned no NewDeviceMetadata. Either this"
                " device is remembered already, or the user pool has no DeviceConfiguration (device tracking:"
                " ChallengeRequiredOnNewDevice / DeviceOnlyRememberedOnUserPrompt); turn it on in the pool"
            )
        tokens = await self._fresh_tokens()
        secret = new_device_secret(new.device_group_key, new.device_key, random_bytes=self._random_bytes)
        params: dict[str, Any] = {
            "AccessToken": tokens.access_token,
            "DeviceKey": new.device_key,
            "DeviceSecretVerifierConfig": secret.verifier_config(),
        }
        if name:
            params["DeviceName"] = name
        response = await self._call(Request("ConfirmDevice", params))
        if response.get("UserConfirmationNecessary"):
            await self._call(
                Request(
                    "UpdateDeviceStatus",
                    {
                        "AccessToken": tokens.access_token,
                        "DeviceKey": new.device_key,
                        "DeviceRememberedStatus": "remembered",
                    },
                )
            )
        record = DeviceRecord(new.device_key, new.device_group_key, secret.device_password)
        for username in self._device_store_names():
            await self._devices.put(self.config.user_pool_id, username, record)
        self._device_key, self._new_device = new.device_key, None
        return new.device_key

    async def forget_device(self) -> None:
        """ForgetDevice for this session's remembered device, then delete it from the device store."""
        key = self._device_key
        if key is None:
            for username in self._device_store_names():
                record = await self._devices.get(self.config.user_pool_id, username)
                if record is not None:
                    key = record.device_key
                    break
        if key is None:
            return
        tokens = await self._fresh_tokens()
        try:
            await self._call(Request("ForgetDevice", {"AccessToken": tokens.access_token, "DeviceKey": key}))
        except ServiceError as exc:
            if exc.code != "ResourceNotFoundException":
                raise
        await self._forget_device_locally(self._device_store_names())
