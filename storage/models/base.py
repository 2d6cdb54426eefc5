"""The declarative base every model derives from, and the column type of Slack ids."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    String,
)
from sqlalchemy.orm import DeclarativeBase

from storage.types import CalendarDate, UTCDateTime

SlackId = String(32)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), date: CalendarDate()}
