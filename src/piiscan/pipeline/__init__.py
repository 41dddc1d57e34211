"""The pipeline: the only code that joins stages to the lake, one module per use case.

- `ingest`: delivered carrier files into the restricted zone (landing, quarantine, manifest);
- `nightly`: a customer's night: a termination due that day, detect, pseudonymize into the
  analytics zone, purge what is due, report;
- `purge`: plan and apply retention;
- `terminate`: termination at account end: scheduled, applied, certified, the key retired;
- `subject`: a person's export and erasure requests.

Callers (the CLI, the flows) bring the storage, the config, the key, the models and the clock.
"""
