"""Waiver expiry (policies.protocol.judge_waivers), shared by the pack and aidc's driver."""

from __future__ import annotations

from datetime import date

from policies.protocol import Suppressed, decode_waived, encode_waived, judge_waivers

NAMES = ("bucket", "urn:pulumi:dev::aidc::gcp:storage/bucket:Bucket::bucket")


def test_a_waiver_applies_through_its_expiry_day_and_not_after() -> None:
    waiver = {"resource": "bucket", "reason": "SEC-1", "expires": "2027-01-31"}
    assert judge_waivers([waiver], NAMES, on=date(2027, 1, 31)).reason == "SEC-1"
    lapsed = judge_waivers([waiver], NAMES, on=date(2027, 2, 1))
    assert lapsed.reason is None and lapsed.expired_on == date(2027, 1, 31)
    assert lapsed.note == "the waiver for it expired on 2027-01-31 (SEC-1)"


def test_an_active_waiver_wins_over_an_expired_one_and_a_bad_date_expires() -> None:
    waivers = [{"resource": NAMES[1], "reason": "old", "expires": "2020-01-01"},
               {"resource": "bucket", "reason": "renewed", "expires": "2999-01-01"}]
    assert judge_waivers(waivers, NAMES, on=date(2026, 1, 1)).reason == "renewed"
    typo = judge_waivers([{"resource": "bucket", "reason": "x", "expires": "31/01/2027"}], NAMES)
    assert typo.reason is None and "unreadable date" in typo.note
    assert judge_waivers([{"resource": "other", "reason": "x"}], NAMES).reason is None


def test_waived_and_exempt_findings_round_trip_the_wire() -> None:
    items = [Suppressed(urn="u1", message="m1", reason="r"),
             Suppressed(urn="u2", message="m2", exemption="flex-start-no-auto-repair")]
    assert decode_waived(encode_waived(items)) == items
    assert decode_waived("some other not-applicable reason") is None
