"""The web face: FastAPI service (REST API) and the staff review UI."""
