import math

import pytest

from trading.model import Instrument, OrderSide
from trading.signals.strategies import STRATEGY_KINDS, MarketView, MeanReversion, MovingAverageCrossover
from trading.signals.strategies.base import bracket

ES = Instrument(symbol="ES", tick_size=0.25, multiplier=50)


def _market(closes, open_symbols=frozenset(), last=None):
    if last is None:
        return MarketView({"ES": tuple(closes)}, {"ES": ES}, frozenset(open_symbols))
    return MarketView({"ES": tuple(closes)}, {"ES": ES}, frozenset(open_symbols), last_prices={"ES": last})


def test_ma_crossover_fast_crossing_above_slow_buys_with_bracket_on_right_sides():
    strategy = MovingAverageCrossover("ma", ["ES"], quantity=2, fast=3, slow=6)
    closes = [5000 - 0.25 * i for i in range(7)] + [5010.0]  # falling, then a jump up

    recs = strategy.evaluate(_market(closes))

    assert len(recs) == 1
    rec = recs[0]
    assert (rec.side, rec.quantity, rec.strategy) == (OrderSide.BUY, 2, "ma")
    assert rec.take_profit > closes[-1] > rec.stop_loss
    assert math.isclose(rec.take_profit / 0.25, round(rec.take_profit / 0.25))  # on the tick grid
    assert "crossed above" in rec.reason


def test_ma_crossover_fast_crossing_below_slow_sells():
    strategy = MovingAverageCrossover("ma", ["ES"], fast=3, slow=6)
    closes = [5000 + 0.25 * i for i in range(7)] + [4990.0]

    (rec,) = strategy.evaluate(_market(closes))

    assert rec.side is OrderSide.SELL
    assert rec.stop_loss > closes[-1] > rec.take_profit


def test_ma_crossover_price_past_the_close_based_stop_sets_exits_from_the_last_price():
    # Arrange: a SELL signal on the bar close; the price then rose past the stop set from that close
    strategy = MovingAverageCrossover("ma", ["ES"], fast=3, slow=6)
    closes = [5000 + 0.25 * i for i in range(7)] + [4990.0]
    (from_close,) = strategy.evaluate(_market(closes))
    last = from_close.stop_loss + 1.0

    # Act
    (rec,) = strategy.evaluate(_market(closes, last=last))

    # Assert: the bracket keeps its distances, around the price the entry is checked against
    assert rec.side is OrderSide.SELL
    assert rec.stop_loss > last > rec.take_profit
    rec.check_exits(last)  # what TradeManager.process checks: no OrderError
    assert rec.stop_loss - last == from_close.stop_loss - closes[-1]
    assert last - rec.take_profit == closes[-1] - from_close.take_profit


def test_ma_crossover_no_cross_or_not_warmed_up_gives_nothing():
    strategy = MovingAverageCrossover("ma", ["ES"], fast=3, slow=6)
    assert strategy.evaluate(_market([5000 + i for i in range(20)])) == []  # trending, no new cross
    assert strategy.evaluate(_market([5000, 5010])) == []  # too few bars


def test_strategy_with_open_trade_on_symbol_gives_nothing():
    strategy = MovingAverageCrossover("ma", ["ES"], fast=3, slow=6)
    closes = [5000 - 0.25 * i for i in range(7)] + [5010.0]
    assert strategy.evaluate(_market(closes, {"ES"})) == []


def test_mean_reversion_far_below_mean_buys_with_tp_at_the_mean():
    strategy = MeanReversion("mr", ["ES"], lookback=10, entry_z=2.0, stop_z=1.0)
    closes = [5000.0, 5000.5] * 5 + [4990.0]

    (rec,) = strategy.evaluate(_market(closes))

    window = closes[-10:]
    mean = sum(window) / len(window)
    assert rec.side is OrderSide.BUY
    assert rec.take_profit == pytest.approx(ES.round_price(mean))
    assert rec.stop_loss < 4990.0
    assert "z-score" in rec.reason


def test_mean_reversion_price_past_the_close_based_stop_sets_exits_from_the_last_price():
    # Arrange: a BUY signal on the bar close; the price then fell through the stop set from that close
    strategy = MeanReversion("mr", ["ES"], lookback=10, entry_z=2.0, stop_z=1.0)
    closes = [5000.0, 5000.5] * 5 + [4990.0]
    (from_close,) = strategy.evaluate(_market(closes))
    last = from_close.stop_loss - 1.0

    # Act
    (rec,) = strategy.evaluate(_market(closes, last=last))

    # Assert: take profit still at the mean, stop the same distance below the last price
    assert rec.side is OrderSide.BUY
    assert rec.take_profit > last > rec.stop_loss
    rec.check_exits(last)  # what TradeManager.process checks: no OrderError
    assert rec.take_profit == from_close.take_profit
    assert last - rec.stop_loss == closes[-1] - from_close.stop_loss


def test_mean_reversion_inside_band_or_flat_gives_nothing():
    strategy = MeanReversion("mr", ["ES"], lookback=10, entry_z=2.0)
    assert strategy.evaluate(_market([5000.0, 5000.5] * 6)) == []
    assert strategy.evaluate(_market([5000.0] * 12)) == []  # zero deviation


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: MovingAverageCrossover("x", ["ES"], fast=10, slow=5), "fast < slow"),
        (lambda: MeanReversion("x", ["ES"], lookback=2), "lookback must be >= 3"),
        (lambda: MeanReversion("x", ["ES"], entry_z=0), "must be > 0"),
    ],
)
def test_strategy_bad_parameters_raise(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


def test_strategy_registry_names_match_kinds():
    assert {kind: cls.kind for kind, cls in STRATEGY_KINDS.items()} == {
        "ma_crossover": "ma_crossover",
        "mean_reversion": "mean_reversion",
    }


@pytest.mark.parametrize(
    ("side", "take_profit", "stop_loss"),
    [(OrderSide.BUY, 5001.0, 4999.5), (OrderSide.SELL, 4999.25, 5000.75)],
    ids=["buy", "sell"],
)
def test_bracket_off_tick_distances_round_exits_toward_the_entry(side, take_profit, stop_loss):
    strategy = MovingAverageCrossover("ma", ["ES"], fast=3, slow=6)
    # 5000.1 (an off-tick last price) + 0.99 / - 0.7: neither exit lands on a tick by itself
    rec = bracket(
        strategy, "ES", side, 5000.1, ES, take_profit_distance=0.99, stop_loss_distance=0.7, reason="t"
    )
    assert (rec.take_profit, rec.stop_loss) == (take_profit, stop_loss)
    assert ES.is_on_tick(rec.take_profit) and ES.is_on_tick(rec.stop_loss)
    assert abs(rec.stop_loss - 5000.1) <= 0.7  # the loss at the stop never exceeds the chosen distance


def test_bracket_one_tick_distance_stays_strictly_on_its_side():
    strategy = MovingAverageCrossover("ma", ["ES"], fast=3, slow=6)
    rec = bracket(
        strategy,
        "ES",
        OrderSide.BUY,
        5000.0,
        ES,
        take_profit_distance=0.0,
        stop_loss_distance=0.1,
        reason="t",
    )
    assert (rec.take_profit, rec.stop_loss) == (5000.25, 4999.75)
