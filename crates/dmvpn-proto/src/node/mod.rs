//! A whole DMVPN Phase 1 hub or spoke: the NHRP, EIGRP, IKEv1 and IPsec machines composed.
