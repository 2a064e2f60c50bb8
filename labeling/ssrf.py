"""Label Studio's SSRF protection with one hole: the ML backend's address.

Label Studio 1.23.2 checks the URL of every webhook, import and storage against its banned subnets
(loopback and private networks among them) while ``SSRF_PROTECTION_ENABLED`` is on, and connecting
an ML backend creates a project webhook to ``<backend>/webhook``: a backend on 127.0.0.1 is refused
(403). Instead of switching the protection off, give Label Studio its own default list with only the
backend's address taken out:

  LABEL_STUDIO_USE_DEFAULT_BANNED_SUBNETS=false \\
  LABEL_STUDIO_USER_ADDITIONAL_BANNED_SUBNETS="$(python -m labeling.ssrf 127.0.0.1)"

Every other loopback address (::1 too), private network and link-local address (cloud metadata)
stays banned, and the protection's other checks (http/https only) stay on.
"""
from __future__ import annotations

import ipaddress
import sys

# Label Studio 1.23.2's default banned subnets (core/utils/io.py validate_ip)
DEFAULT_BANNED = (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4", "233.252.0.0/24", "240.0.0.0/4", "255.255.255.255/32", "::/128", "::1/128",
    "::ffff:0:0/96", "::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001:0000::/32",
    "2001:20::/28", "2001:db8::/32", "2002::/16", "fc00::/7", "fe80::/10", "ff00::/8",
)


def banned_subnets(*allowed: str) -> list[str]:
    """The default banned subnets with each ``allowed`` address (e.g. the ML backend's) carved out."""
    holes = [ipaddress.ip_network(a) for a in allowed]
    out: list = []
    for subnet in map(ipaddress.ip_network, DEFAULT_BANNED):
        parts = [subnet]
        for hole in holes:
            parts = [q for p in parts for q in ((p.address_exclude(hole) if hole.subnet_of(p) else [p])
                                                if p.version == hole.version else [p])]
        out += parts
    return [str(n) for n in sorted(out, key=lambda n: (n.version, n))]


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python -m labeling.ssrf ADDRESS [ADDRESS ...]  (the ML backend's IP addresses)")
    try:
        print(",".join(banned_subnets(*sys.argv[1:])))
    except ValueError as e:
        sys.exit(f"error: {e}")
