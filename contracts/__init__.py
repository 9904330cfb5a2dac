"""The events each service publishes (payload models and their enums): the only code two services share.

One module per publishing service. Pure pydantic: no I/O, no web, no database.
"""
