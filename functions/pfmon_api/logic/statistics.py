"""Statistics over closed trades: totals, rates, profit factor, expectancy, drawdown.

Only closed trades count. A trade's P&L p is its net P&L, and the tolerance e
(default 0) classifies it: a win when p > e, a loss when p < -e, a break-even
otherwise. Ratios are computed as exact fractions and rounded once to 28 significant
digits, so expectancy and mean net P&L per trade are equal Decimals. Amounts are not
rounded at all: rounding for display belongs to the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, Inexact, localcontext
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType

from pfmon_api.logic.matching import EXACT_CONTEXT, divide
from pfmon_api.logic.trades import (
    Trade,
    TradeInputError,
    TradeStatus,
    require_decimal,
)

NO_TRADES_REASON = "no closed trades"
NO_LOSSES_REASON = "no losing trades"


class Outcome(StrEnum):
    WIN = "win"
    LOSS = "loss"
    BREAK_EVEN = "break_even"


@dataclass(frozen=True)
class JournalTrade:
    """A derived trade with the account and tags that the journal stores beside it."""

    trade: Trade
    account_id: str
    tags: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not isinstance(self.trade, Trade):
            raise TypeError(f"trade must be a Trade, not {self.trade!r}.")
        if not isinstance(self.account_id, str) or not self.account_id:
            raise TradeInputError(
                "account_id",
                self.account_id,
                f"Invalid account_id {self.account_id!r}. Expected a non-empty string.",
            )
        if isinstance(self.tags, str):
            raise TradeInputError(
                "tags",
                self.tags,
                f"Invalid tags {self.tags!r}. Expected a set of tag strings, "
                "not one string.",
            )
        tags = frozenset(self.tags)
        for tag in tags:
            if not isinstance(tag, str) or not tag:
                raise TradeInputError(
                    "tags", tag, f"Invalid tag {tag!r}. Expected a non-empty string."
                )
        object.__setattr__(self, "tags", tags)


@dataclass(frozen=True)
class TradeStatistics:
    """Statistics of the selected closed trades.

    Loss figures (`losing_total`, `average_loss`, `largest_loss`, `max_drawdown`)
    are magnitudes, 0 or greater. A statistic with no trades to compute it from is
    None. `profit_factor_reason` states why the profit factor is None.
    """

    trade_count: int
    win_count: int
    loss_count: int
    break_even_count: int
    gross_pnl: Decimal
    fees: Decimal
    net_pnl: Decimal
    winning_total: Decimal
    losing_total: Decimal
    win_rate: Decimal | None
    win_rate_excluding_break_even: Decimal | None
    average_win: Decimal | None
    average_loss: Decimal | None
    largest_win: Decimal | None
    largest_loss: Decimal | None
    profit_factor: Decimal | None
    profit_factor_reason: str | None
    expectancy: Decimal | None
    average_net_pnl: Decimal | None
    max_drawdown: Decimal
    max_daily_drawdown: Decimal
    pnl_by_day: Mapping[date, Decimal]
    pnl_by_symbol: Mapping[str, Decimal]
    pnl_by_tag: Mapping[str, Decimal]


def classify(net_pnl: Decimal, tolerance: Decimal = Decimal(0)) -> Outcome:
    """Classify a net P&L as a win (> tolerance), loss (< -tolerance) or break-even."""
    if net_pnl > tolerance:
        return Outcome.WIN
    if net_pnl < -tolerance:
        return Outcome.LOSS
    return Outcome.BREAK_EVEN


def max_drawdown(pnls: Iterable[Decimal]) -> Decimal:
    """Return the largest fall of cumulative P&L from a previous peak.

    The curve starts at 0 before the first P&L, so a first losing trade is a
    drawdown. The result is a magnitude, 0 when the curve never falls.
    """
    equity = Decimal(0)
    peak = Decimal(0)
    deepest = Decimal(0)
    with localcontext(EXACT_CONTEXT):
        for pnl in pnls:
            equity += pnl
            peak = max(peak, equity)
            deepest = max(deepest, peak - equity)
    return deepest


def select_closed_trades(
    trades: Iterable[JournalTrade],
    *,
    start: date | None = None,
    end: date | None = None,
    account_id: str | None = None,
) -> list[JournalTrade]:
    """Return the closed trades realized from start to end (both inclusive) in order.

    The realization date is the booking date of a trade's last exit. Trades keep
    their given order. account_id, when given, keeps only that account's trades.
    """
    for name, bound in (("start", start), ("end", end)):
        if bound is not None and not isinstance(bound, date):
            raise TradeInputError(
                name, bound, f"Invalid {name} {bound!r}. Expected a datetime.date."
            )
    if start is not None and end is not None and start > end:
        raise TradeInputError(
            "start",
            start,
            f"Invalid date range {start} to {end}. The start must not be after "
            "the end.",
        )
    selected = []
    for item in trades:
        closed_on = item.trade.closed_on
        if item.trade.status is not TradeStatus.CLOSED or closed_on is None:
            continue
        if account_id is not None and item.account_id != account_id:
            continue
        if (start is not None and closed_on < start) or (
            end is not None and closed_on > end
        ):
            continue
        selected.append(item)
    return selected


def compute_statistics(
    trades: Iterable[JournalTrade],
    *,
    start: date | None = None,
    end: date | None = None,
    account_id: str | None = None,
    break_even_tolerance: Decimal = Decimal(0),
) -> TradeStatistics:
    """Compute the statistics of the closed trades that match the filters.

    Filters are those of `select_closed_trades`. Open trades are skipped, and so are
    the partial exits they have realized.
    """
    tolerance = require_decimal(break_even_tolerance, "break_even_tolerance")
    if tolerance < 0:
        raise TradeInputError(
            "break_even_tolerance",
            tolerance,
            f"Invalid break_even_tolerance {tolerance}. It must be 0 or greater.",
        )
    selected = select_closed_trades(trades, start=start, end=end, account_id=account_id)
    try:
        with localcontext(EXACT_CONTEXT):
            return _summarize(selected, tolerance)
    except Inexact as exc:
        raise TradeInputError(
            "trades",
            len(selected),
            "The P&L of these trades differs in magnitude by more than the "
            f"{EXACT_CONTEXT.prec} digits that exact arithmetic keeps. Check the "
            "trades for a mistyped exponent.",
        ) from exc


def _summarize(selected: Sequence[JournalTrade], tolerance: Decimal) -> TradeStatistics:
    nets = [item.trade.net_pnl for item in selected]
    wins = [p for p in nets if classify(p, tolerance) is Outcome.WIN]
    losses = [p for p in nets if classify(p, tolerance) is Outcome.LOSS]
    winning_total = sum(wins, Decimal(0))
    losing_total = -sum(losses, Decimal(0))
    net_pnl = sum(nets, Decimal(0))
    count = len(nets)

    by_close = sorted(selected, key=_realized_at)
    pnl_by_day = _pnl_by_day(selected)
    profit_factor, reason = _profit_factor(count, winning_total, losing_total)
    return TradeStatistics(
        trade_count=count,
        win_count=len(wins),
        loss_count=len(losses),
        break_even_count=count - len(wins) - len(losses),
        gross_pnl=sum((item.trade.gross_pnl for item in selected), Decimal(0)),
        fees=sum((item.trade.fees for item in selected), Decimal(0)),
        net_pnl=net_pnl,
        winning_total=winning_total,
        losing_total=losing_total,
        win_rate=_ratio(len(wins), count),
        win_rate_excluding_break_even=_ratio(len(wins), len(wins) + len(losses)),
        average_win=_ratio(winning_total, len(wins)),
        average_loss=_ratio(losing_total, len(losses)),
        largest_win=max(wins, default=None),
        largest_loss=-min(losses) if losses else None,
        profit_factor=profit_factor,
        profit_factor_reason=reason,
        expectancy=_expectancy(
            len(wins), winning_total, len(losses), losing_total, count
        ),
        average_net_pnl=_ratio(net_pnl, count),
        max_drawdown=max_drawdown(item.trade.net_pnl for item in by_close),
        max_daily_drawdown=max_drawdown(pnl_by_day.values()),
        pnl_by_day=pnl_by_day,
        pnl_by_symbol=_pnl_by_symbol(selected),
        pnl_by_tag=_pnl_by_tag(selected),
    )


def _realized_at(item: JournalTrade) -> datetime:
    closed_at = item.trade.closed_at
    assert closed_at is not None  # select_closed_trades keeps closed trades only
    return closed_at


def _ratio(numerator: Decimal | int, denominator: int) -> Decimal | None:
    if denominator == 0:
        return None
    return _to_decimal(Fraction(numerator) / denominator)


def _to_decimal(value: Fraction) -> Decimal:
    """Round an exact fraction once to 28 significant digits."""
    return divide(Decimal(value.numerator), Decimal(value.denominator))


def _profit_factor(
    count: int, winning_total: Decimal, losing_total: Decimal
) -> tuple[Decimal | None, str | None]:
    if count == 0:
        return None, NO_TRADES_REASON
    if losing_total == 0:
        return None, NO_LOSSES_REASON
    return divide(winning_total, losing_total), None


def _expectancy(
    win_count: int,
    winning_total: Decimal,
    loss_count: int,
    losing_total: Decimal,
    count: int,
) -> Decimal | None:
    """Return WR x AvgWin - LR x AvgLoss, with both rates over all closed trades."""
    if count == 0:
        return None
    expectancy = Fraction(0)
    if win_count:
        win_rate = Fraction(win_count, count)
        expectancy += win_rate * Fraction(winning_total) / win_count
    if loss_count:
        loss_rate = Fraction(loss_count, count)
        expectancy -= loss_rate * Fraction(losing_total) / loss_count
    return _to_decimal(expectancy)


def _pnl_by_day(selected: Iterable[JournalTrade]) -> Mapping[date, Decimal]:
    totals: dict[date, Decimal] = {}
    for item in selected:
        for realized in item.trade.exits:
            day = realized.realized_on
            totals[day] = totals.get(day, Decimal(0)) + realized.net_pnl
    return MappingProxyType(dict(sorted(totals.items())))


def _pnl_by_symbol(selected: Iterable[JournalTrade]) -> Mapping[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for item in selected:
        symbol = item.trade.instrument.symbol
        totals[symbol] = totals.get(symbol, Decimal(0)) + item.trade.net_pnl
    return MappingProxyType(dict(sorted(totals.items())))


def _pnl_by_tag(selected: Iterable[JournalTrade]) -> Mapping[str, Decimal]:
    """Sum net P&L per tag. A trade with several tags counts under each of them."""
    totals: dict[str, Decimal] = {}
    for item in selected:
        for tag in item.tags:
            totals[tag] = totals.get(tag, Decimal(0)) + item.trade.net_pnl
    return MappingProxyType(dict(sorted(totals.items())))
