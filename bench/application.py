"""The registry's permit application (general) the benchmarks send, as a plain dict: no imports beyond the standard
library, so the peer's own environment (bench/peer) builds the same body (bench/apply.lua restates it for wrk)."""


def permit_application(corporate_number: str, officer_address: str) -> dict:
    """Valid under DOMAIN §11 given a corporate number with its check digit; an officer at an address of their own
    (so no revocation elsewhere in the same database disqualifies them: Art. 26)."""
    return {
        "name": "Sakura Cooperative",
        "corporate_number": corporate_number,
        "address": "1-2-3 Chiyoda, Tokyo",
        "prefecture": "13",
        "representative": "Yamada Taro",
        "supervising_offices": [
            {"name": "Head office", "address": "1-2-3 Chiyoda, Tokyo", "supervision_manager": "Suzuki Hanako"}
        ],
        "job_categories": ["construction"],
        "requested_permit_type": "general",
        "external_auditor": "Tanaka Law Office",
        "officers": [{"name": "Yamada Taro", "address": officer_address, "position": "representative director"}],
        "applied_on": "2026-04-01",
    }
