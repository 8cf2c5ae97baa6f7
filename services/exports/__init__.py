"""What a course or an account is exported as: ZIP, PDF, FHIR, time-lapse, iCalendar."""
