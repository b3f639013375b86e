"""Every exception aiocognito raises: the tree in ``_errors`` and one class per Cognito error code.

``from aiocognito.errors import NotAuthorizedException``; ``ERROR_CLASSES[code]`` finds a class by code.
"""

from __future__ import annotations

from ._errors import *  # noqa: F403
from ._errors import __all__ as _tree
from ._wire.error_codes import *  # noqa: F403
from ._wire.error_codes import ERROR_CLASSES
from ._wire.error_codes import __all__ as _codes
from .oauth._errors import *  # noqa: F403  (the OAuth endpoints' errors, ``aiocognito.oauth``)
from .oauth._errors import __all__ as _oauth

__all__ = [*_tree, *_codes, *_oauth, "ERROR_CLASSES", "error_class"]


def error_class(code: str) -> type[ServiceError]:  # noqa: F405
    """The class for a service error code; ``ServiceError`` for a code the model does not know."""
    return ERROR_CLASSES.get(code, ServiceError)  # noqa: F405
