"""Sign-in: the pure state machine (``flow``), SRP math (``srp``), the async driver and its steps
(``session``), and where devices and tokens are kept (``stores``)."""
