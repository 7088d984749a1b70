"""The simulation's business days are the dates of the macro history (FRED's Treasury series skip
US holidays and weekends), counted with the one calendar every service shares."""

from services.common.calendar import BusinessCalendar

__all__ = ["BusinessCalendar"]
