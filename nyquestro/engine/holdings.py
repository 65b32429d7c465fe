"""An account's positions over all its symbols, held directly for the figures that sum
over them: its gross notional (a pre-trade limit, checked on every order) and its
marked-to-market PnL (the VaR monitor, sampled on every trade in a symbol it holds).

Both run on the order path, so the account's exposures and their books are resolved
once, when the account first holds a symbol, not looked up by name on every order.
"""

from nyquestro.domain.ids import Account, Symbol
from nyquestro.engine.arith import product
from nyquestro.engine.book import OrderBook
from nyquestro.engine.positions import Exposure, unrealised


class Holding:
    """One symbol of the account: its exposure, its book (for the mark) and the number
    of PnL units in one of its ticks."""

    __slots__ = ("book", "exposure", "units")

    def __init__(self, exposure: Exposure, book: OrderBook, units: int) -> None:
        self.exposure = exposure
        self.book = book
        self.units = units


class AccountHoldings:
    __slots__ = ("account", "exposures", "holdings")

    def __init__(self, account: Account) -> None:
        self.account = account
        self.exposures: dict[Symbol, Exposure] | None = None
        """The account's exposures by symbol (`Positions.by_account`), once it has any:
        that dict is made once per account and only ever grows."""
        self.holdings: list[Holding] = []

    def follow(
        self,
        by_account: dict[Account, dict[Symbol, Exposure]],
        books: dict[Symbol, OrderBook],
        units: dict[Symbol, int],
    ) -> bool:
        """Hold the account's exposures directly; False while it has none. A count tells
        when it has gained a symbol, since exposures are never dropped."""
        exposures = self.exposures
        if exposures is None:
            exposures = self.exposures = by_account.get(self.account)
            if exposures is None:
                return False
        if len(exposures) != len(self.holdings):
            self.holdings = [Holding(e, books[sym], units[sym]) for sym, e in exposures.items()]
        return True

    def holds_any(self, symbols: list[Symbol]) -> bool:
        exposures = self.exposures
        if exposures is None:
            return False
        # A loop, not any() over a generator, which mypyc builds as an object per call.
        for symbol in symbols:  # noqa: SIM110
            if symbol in exposures:
                return True
        return False

    def marked_pnl(self) -> int:
        """Realised plus unrealised PnL at the last trades over all symbols, PnL units."""
        total = 0
        for holding in self.holdings:
            e = holding.exposure
            pnl = e.realised + unrealised(e, holding.book.last_px)
            total += pnl if holding.units == 1 else product(pnl, holding.units)
        return total

    def gross_units(self) -> int:
        """Positions at the last trades plus open orders at their prices, over all
        symbols, in PnL units: what max_gross_notional limits."""
        total = 0
        for holding in self.holdings:
            e = holding.exposure
            last = holding.book.last_px
            exposure = abs(e.position) * last + e.open_notional if last else e.open_notional
            total += exposure if holding.units == 1 else exposure * holding.units
        return total
