//! Capture files: pcap and pcapng frames, link layers, IPv4 with reassembly, UDP.
