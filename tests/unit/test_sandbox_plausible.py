"""The sandbox looks like the real world where a reader would notice: engagement grows with the audience, seed
articles keep their headlines, and GDELT finds articles no feed carries."""

from __future__ import annotations

import re
import statistics
from datetime import UTC, date, datetime, timedelta

from etl.sandbox.news import NewsUniverse, seed_headline, seeds_feed
from etl.sandbox.social_data import SocialUniverse
from etl.sandbox.youtube_data import YouTubeUniverse

NOW = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)
SETTLED = NOW + timedelta(days=6)  # counters near their final values (half-life 36 h)


def per_post_rates(followers_and_engagement: list[tuple[int, int]]) -> list[float]:
    return [1000 * engagement / followers for followers, engagement in followers_and_engagement]


def test_social_engagement_per_1000_followers_per_post_is_plausible() -> None:
    universe = SocialUniverse("x", {f"{n:05d}": f"akun{n}" for n in range(300)}, hide_likes_ratio=0.0)
    pairs = []
    for account in universe.accounts:
        for post in universe.posts(account, NOW)[:5]:
            counters = universe.metrics(post, SETTLED)
            pairs.append((universe.followers(account, post.published), sum(v for k, v in counters.items() if k != "views")))
    rates = per_post_rates(pairs)
    assert len(rates) > 500
    # 2-50% of the followers see a post; 1.2-9.9% of viewers engage: up to 50 per 1,000 followers.
    assert 0 <= min(rates) and max(rates) <= 50  # a few posts of small accounts earn nothing (counts are whole)
    assert 3 <= statistics.median(rates) <= 12
    small = [r for (f, _), r in zip(pairs, rates, strict=True) if f < 2000]
    big = [r for (f, _), r in zip(pairs, rates, strict=True) if f > 200_000]
    assert small and big and max(small) <= 50  # a small account no longer earns thousands per 1,000 followers


def test_youtube_engagement_per_1000_subscribers_per_video_is_plausible() -> None:
    channels = [f"UC{n:022d}" for n in range(200)]
    universe = YouTubeUniverse(channels, 7, hide_likes_ratio=0.0, comments_disabled_ratio=0.0)
    pairs = []
    for channel in channels:
        for video_id in universe.uploads(channel, NOW)[:5]:
            settled = universe.video(video_id, SETTLED)
            if settled is None:  # deleted meanwhile
                continue
            stats = settled["statistics"]
            published = datetime.fromisoformat(universe.video(video_id, NOW)["snippet"]["publishedAt"].replace("Z", "+00:00"))
            pairs.append((universe.subscribers(channel, published), int(stats["likeCount"]) + int(stats["commentCount"])))
    rates = per_post_rates(pairs)
    assert len(rates) > 300
    assert 0 <= min(rates) and max(rates) <= 50 and 3 <= statistics.median(rates) <= 12


def test_seed_articles_are_titled_with_their_headlines() -> None:
    assert re.findall(r"<item><title>(.*?)</title>", seeds_feed()) == [
        "Diskominfo-SP Lutim Ikuti Bimtek Pengelolaan Media Sosial Pemerintah Terkait KTT ASEAN Tahun 2023 Secara Virtual",
        "Kemenkominfo Gelar Bimtek Pengelolaan Media Sosial Pemerintah",
        "Jelang Konferensi Tingkat Tinggi (KTT) Ke-43 ASEAN 2023",  # a photo caption's text, without its credit
        "Kemenkominfo Menggelar Bimtek Strategi Komunikasi Medos",  # not the date line above it
        "Kadis Kominfo Kepri Hadiri Pembukaan Bimtek Pengelolaan Media Sosial",  # not the region tag "Kepri"
    ]
    assert seed_headline("Logo\n\nSenin, 5 Agustus 2019\nJatim\nGubernur Buka Pameran UMKM di Surabaya\nIsi berita.") == (
        "Gubernur Buka Pameran UMKM di Surabaya")


def test_a_week_of_news_has_an_outlet_only_gdelt_finds() -> None:
    stories = [s for d in range(7) for s in NewsUniverse(7).stories(date(2026, 11, 29) + timedelta(days=d))]
    assert sum(s["outlet"] == "lintas" for s in stories) == 7 * 4
