"""Pareto frontiers of (cost, quality) points: cost is always minimised, quality is minimised
(perplexity) or maximised (accuracy)."""


def dominates(a, b, higher_better):
    """True when point a = (cost, quality) is at least as good as b in both and better in one."""
    ca, qa = a
    cb, qb = b
    q_ge = qa >= qb if higher_better else qa <= qb
    q_gt = qa > qb if higher_better else qa < qb
    return ca <= cb and q_ge and (ca < cb or q_gt)


def frontier(points, higher_better=False):
    """Indices of the non-dominated points, ordered by increasing cost. points: [(cost, quality)];
    entries with a None or NaN coordinate are ignored. Of identical points only the first is kept."""
    idx = [i for i, (c, q) in enumerate(points)
           if c is not None and q is not None and c == c and q == q]
    sign = -1.0 if higher_better else 1.0
    # By cost, then best quality first, then input order: a point is on the frontier exactly when
    # its quality is strictly better than that of every point before it.
    idx.sort(key=lambda i: (points[i][0], sign * points[i][1], i))
    out, best = [], None
    for i in idx:
        q = sign * points[i][1]
        if best is None or q < best:
            out.append(i)
            best = q
    return out
