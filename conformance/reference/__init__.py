"""The built-in reference device: a pynetdicom SCP driven by a conformance statement."""

from conformance.reference.device import Misbehaviour, ReferenceDevice, SilentListener

__all__ = ["Misbehaviour", "ReferenceDevice", "SilentListener"]
