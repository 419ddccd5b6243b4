//! Shared strategy helpers (metadata-level rules used by several resources).
