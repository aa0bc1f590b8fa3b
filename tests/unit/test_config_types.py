"""trading/config_types.py: strict field types; a typo never passes as a value."""

from datetime import UTC, date, datetime, time
from typing import Annotated

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trading.config_types import Flag, IsoDate, LocalTime, Number, Timestamp, TimeZoneName, Whole


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    number: Annotated[Number, Field(gt=0)] = 1.0
    whole: Whole = 1
    flag: Flag = True
    day: IsoDate = date(2026, 1, 1)
    at: Timestamp | None = None
    zone: TimeZoneName = "UTC"
    clock: LocalTime = time(17, 0)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("number", 2500, 2500.0),
        ("number", 0.25, 0.25),
        ("whole", 7, 7),
        ("flag", False, False),
        ("day", "2026-11-26", date(2026, 11, 26)),
        ("at", "2026-01-05T14:30:00Z", datetime(2026, 1, 5, 14, 30, tzinfo=UTC)),
        ("zone", "America/Chicago", "America/Chicago"),
        ("clock", "8:30", time(8, 30)),
        ("clock", "17:00:30", time(17, 0, 30)),
    ],
)
def test_config_types_valid_value_kept(field, value, expected):
    assert getattr(_Model.model_validate({field: value}), field) == expected


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("number", True, "valid number"),  # YAML `true`: lax pydantic made it 1.0
        ("number", "2500", "valid number"),  # quoted text: lax pydantic made it 2500.0
        ("number", float("inf"), "finite number"),
        ("number", float("nan"), "finite number"),
        ("number", 10**400, "valid number"),
        ("whole", True, "valid integer"),
        ("whole", 2.0, "valid integer"),
        ("whole", "3", "valid integer"),
        ("flag", 1, "valid boolean"),  # `enabled: 1`
        ("flag", "yes", "valid boolean"),
        ("day", "2026-13-01", r"a date written YYYY-MM-DD \(month must be in 1\.\.12\)"),
        ("day", 20260101, "a date written YYYY-MM-DD, got int"),
        ("at", "not-a-date", "an ISO 8601 date and time with a UTC offset"),
        ("at", "2026-01-05T14:30:00", "a UTC offset"),
        ("at", "9999-12-31T00:00:00+00:00", "a time from 1971 to 2199"),
        ("at", 1_700_000_000, "as text, got int"),
        ("zone", "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ("zone", 5, "valid string"),
        ("clock", 830, "a time written 'HH:MM'"),  # a YAML 1.1 reader's 13:50 must not pass as a time
        ("clock", True, "a time written 'HH:MM'"),
        ("clock", "08:30+05:00", "a local time without a UTC offset"),
        ("clock", "25:00", "hour value is outside expected range"),
    ],
)
def test_config_types_wrong_type_or_value_refused(field, value, match):
    with pytest.raises(ValidationError, match=match):
        _Model.model_validate({field: value})
