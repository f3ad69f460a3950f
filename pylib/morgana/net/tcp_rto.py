# Retransmission timeout estimator (RFC 6298) with exponential backoff.
# MIN_RTO is 200 ms like Linux rather than RFC 6298's 1 s: a 1 s floor makes every loss on
# a LAN stall the flow for a second, which is what the 5%-loss acceptance test measures.

INITIAL_RTO = 1.0
MIN_RTO = 0.2
MAX_RTO = 60.0
CLOCK_G = 0.001  # clock granularity (seconds) in the RTO formula


class RTO:
    def __init__(self, min_rto=MIN_RTO, initial=INITIAL_RTO):
        self.min_rto = min_rto
        self.srtt = None
        self.rttvar = 0.0
        self.base = initial  # RTO before backoff
        self.backoff = 0     # number of consecutive timeouts

    def sample(self, r):
        """A new round-trip measurement r (seconds) from a segment never retransmitted."""
        if r < 0:
            return
        if self.srtt is None:
            self.srtt = r
            self.rttvar = r / 2
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - r)
            self.srtt = 0.875 * self.srtt + 0.125 * r
        rto = self.srtt + max(CLOCK_G, 4 * self.rttvar)
        self.base = min(max(rto, self.min_rto), MAX_RTO)
        self.backoff = 0

    def timeout(self):
        """The timer fired: back off (5.5). Returns the new backoff count."""
        self.backoff += 1
        return self.backoff

    def value(self):
        """Current RTO with backoff applied, capped at MAX_RTO."""
        v = self.base * (1 << min(self.backoff, 16))
        return v if v < MAX_RTO else MAX_RTO
