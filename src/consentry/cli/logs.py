"""How the server logs: uvicorn's text lines, or (CONSENTRY_LOG_FORMAT=json) one JSON object a
line (python-json-logger) with the time, level, logger, message and the request's id, for a
log pipeline to parse. Either way no personal data: request lines carry no identifiers (look-ups
are POSTs), personal links are cut to /p/…, and nothing logs a body."""

from __future__ import annotations

import copy
from typing import Any

JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"


def log_config(log_format: str, level: str) -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG  # here: most commands never start uvicorn

    config = copy.deepcopy(LOGGING_CONFIG)
    if log_format != "json":
        return config
    formatter = {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": JSON_FIELDS,
        "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        "timestamp": False,
        "json_ensure_ascii": False,  # UTF-8 as is: "/p/…" stays readable and greppable
    }
    config["formatters"] = {"json": formatter}
    config["filters"] = {"request_id": {"()": "consentry.api.observability.RequestIdFilter"}}
    for handler in config["handlers"].values():
        handler["formatter"] = "json"
        handler["filters"] = ["request_id"]
    # Consentry's own loggers (the sequencer, the webhook worker, the API's errors) go the same
    # way as uvicorn's.
    config["loggers"]["consentry"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    return config


def configure(log_format: str, level: str) -> None:
    """For commands that run without uvicorn (the webhook worker)."""
    import logging.config

    logging.config.dictConfig(log_config(log_format, level))
    logging.getLogger("consentry").setLevel(getattr(logging, level.upper(), logging.WARNING))
