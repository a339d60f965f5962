"""The wire format of the integration API (pydantic models), shared by the API, the importer
and the client, one module a part of the contract."""
