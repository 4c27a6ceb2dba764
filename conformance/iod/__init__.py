"""IOD validation and instance synthesis (PS3.3 IODs and modules, PS3.5 encoding).

``validate(dataset) -> list[Finding]``, ``validate_file(path)``, ``synthesize(uid, ts)``.
"""

from conformance.iod.validator import validate, validate_file

__all__ = ["synthesize", "validate", "validate_file"]


def __getattr__(name: str):  # lazy: the synthesizer is not needed to validate
    if name == "synthesize":
        from conformance.iod.synth import synthesize
        return synthesize
    raise AttributeError(name)
