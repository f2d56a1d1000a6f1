//! The diff stage: rendered objects against live ones, normalized, with Secret values masked.
