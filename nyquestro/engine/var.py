"""The VaR monitor's view of one account: its PnL window and the positions it marks.

After every command that trades a symbol an account holds, the account's marked-to-
market PnL (realised plus unrealised at the last trades, over all its symbols) is added
to its window. That is one sample per monitored holder per trade, so the per-account
work is kept to integer arithmetic over objects held directly: the account's exposures
and their books are resolved once, not looked up by name on every trade.
"""

from nyquestro.domain.ids import Account, Symbol
from nyquestro.engine.book import OrderBook
from nyquestro.engine.monitor import RollingVariance, Threshold
from nyquestro.engine.positions import Exposure, unrealised


class Holding:
    """One symbol of the account: its exposure, its book (for the mark) and the number
    of PnL units in one of its ticks."""

    __slots__ = ("book", "exposure", "units")

    def __init__(self, exposure: Exposure, book: OrderBook, units: int) -> None:
        self.exposure = exposure
        self.book = book
        self.units = units


class AccountMonitor:
    __slots__ = ("account", "exposures", "holdings", "threshold", "window")

    def __init__(self, account: Account, window: RollingVariance, threshold: Threshold) -> None:
        self.account = account
        self.window = window
        self.threshold = threshold
        self.exposures: dict[Symbol, Exposure] | None = None
        """The account's exposures by symbol (`Positions.by_account`), once it has any:
        that dict is made once per account and only ever grows."""
        self.holdings: list[Holding] = []

    def holds_any(
        self, by_account: dict[Account, dict[Symbol, Exposure]], symbols: list[Symbol]
    ) -> bool:
        exposures = self.exposures
        if exposures is None:
            exposures = self.exposures = by_account.get(self.account)
            if exposures is None:
                return False
        # A loop, not any() over a generator, which mypyc builds as an object per call.
        for symbol in symbols:  # noqa: SIM110
            if symbol in exposures:
                return True
        return False

    def follow(self, books: dict[Symbol, OrderBook], units: dict[Symbol, int]) -> None:
        """Hold the account's exposures directly; a count tells when it has gained a
        symbol, since exposures are never dropped."""
        exposures = self.exposures
        assert exposures is not None  # holds_any said so
        if len(exposures) != len(self.holdings):
            self.holdings = [Holding(e, books[sym], units[sym]) for sym, e in exposures.items()]

    def marked_pnl(self) -> int:
        """Realised plus unrealised PnL at the last trades over all symbols, PnL units."""
        total = 0
        for holding in self.holdings:
            e = holding.exposure
            total += (e.realised + unrealised(e, holding.book.last_px)) * holding.units
        return total
