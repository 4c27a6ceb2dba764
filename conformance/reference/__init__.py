"""The built-in reference device: an SCP on conformance.wire driven by a conformance statement."""

from conformance.reference.device import Misbehaviour, ReferenceDevice, SilentListener

__all__ = ["Misbehaviour", "ReferenceDevice", "SilentListener"]
