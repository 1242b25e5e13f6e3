//! IKEv1 (RFC 2409) Main Mode and Quick Mode machines with pre-shared keys.
