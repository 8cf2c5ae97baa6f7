"""Who uses the service: patients keep the records, clinicians see those shared with them."""

PATIENT = "patient"
CLINICIAN = "clinician"
ROLES = (PATIENT, CLINICIAN)
