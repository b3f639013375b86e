"""The wire: the client, its generated operations, encoding, SigV4, transport, retries, pagination
and credentials. Everything that turns one boto3-style call into one HTTP exchange and back."""
