"""Tokens: the token set of one sign-in (``token_set``) and offline JWT verification (``verifier``)."""
