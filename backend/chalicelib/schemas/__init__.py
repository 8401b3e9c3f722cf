"""Request and response shapes of the HTTP API (pydantic v2); names end in Request or Response."""
