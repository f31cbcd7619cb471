"""Traffic lab: network namespaces joined by veth links, for real kernel traffic with controlled impairments."""
