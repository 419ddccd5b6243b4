//! apiserver (being written)
