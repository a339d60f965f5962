"""Consent receipts: Kantara Consent Receipt v1.1 fields, W3C DPV status words.

What a customer can keep as proof of what they agreed to; signed as a compact JWS elsewhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from consentry.domain.consent import Action, Source

# W3C Data Privacy Vocabulary consent status for what the record did.
DPV_STATUS = {
    Action.GRANT: "ConsentGiven",
    Action.WITHDRAW: "ConsentWithdrawn",
    Action.REFUSE: "ConsentRefused",
    Action.REQUEST: "ConsentRequested",
}

_COLLECTION_METHOD = {
    Source.WEB: "web form",
    Source.APP: "mobile app",
    Source.STORE: "in store",
    Source.CALL_CENTRE: "call centre",
    Source.EMAIL: "e-mail",
    Source.IMPORT: "imported from an earlier system",
    Source.API: "integration API",
}


def receipt_payload(
    *,
    record: dict[str, Any],
    purpose_title: str,
    purpose_sensitive: bool,
    legal_basis: str,
    controller: dict[str, str],
    jurisdiction: str,
    policy_url: str,
    issued_at: datetime,
    expired: bool = False,
) -> dict[str, Any]:
    action = Action(record["action"])
    status = "ConsentExpired" if expired and action is Action.GRANT else DPV_STATUS[action]
    return {
        "version": "KI-CR-v1.1.0",
        "jurisdiction": jurisdiction,
        "consentTimestamp": int(datetime.fromisoformat(record["captured_at"]).timestamp()),
        "collectionMethod": _COLLECTION_METHOD[Source(record["source"])],
        "consentReceiptID": record["id"],
        "publicKey": None,
        "language": "en",
        "piiPrincipalId": record["customer_id"],
        "piiControllers": [controller],
        "policyUrl": policy_url,
        "services": [
            {
                "service": controller.get("piiController", "Consentry"),
                "purposes": [
                    {
                        "purpose": purpose_title,
                        "purposeCategory": [record["purpose"]],
                        "consentType": "EXPLICIT",
                        "purposeTermination": "on withdrawal",
                        "thirdPartyDisclosure": False,
                        "primaryPurpose": True,
                        "legalBasis": legal_basis,
                        "status": status,
                    }
                ],
            }
        ],
        "sensitive": purpose_sensitive,
        "spiCat": [record["purpose"]] if purpose_sensitive else [],
        "iat": int(issued_at.timestamp()),
        # Consentry's own fields: tie the receipt to the log.
        "record_id": record["id"],
        "purpose": record["purpose"],
        "purpose_version": record["purpose_version"],
        "notice_hash": record["notice_hash"],
        "action": record["action"],
        "channel": record["channel"],
        "status": status,
        "captured_at": record["captured_at"],
        "recorded_at": record["recorded_at"],
        "leaf_hash": record["leaf_hash"],
    }
