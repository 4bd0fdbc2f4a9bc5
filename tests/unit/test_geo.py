"""Locations from postal codes, distances and bounding boxes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.places.geo import communes, locate, normalize_commune
from core.shared.distance import bounding_box, distance_km
from core.shared.errors import ValidationError


def test_nantes_is_in_loire_atlantique_under_ars_pays_de_la_loire() -> None:
    location = locate("44000")
    assert (location.department, location.ars, location.commune) == ("44", "52", "NANTES")


def test_the_city_selects_the_commune_point() -> None:
    first = locate("01000")
    other = locate("01000", "Saint-Denis-lès-Bourg")
    assert other.commune == "SAINT DENIS LES BOURG"
    assert (first.lat, first.lon) != (other.lat, other.lon)


def test_an_unknown_city_lists_the_communes_of_the_postal_code() -> None:
    with pytest.raises(ValidationError) as error:
        locate("01000", "Lyon")
    assert error.value.field == "city"
    assert "BOURG EN BRESSE" in error.value.message


def test_a_postal_code_straddling_two_ars_needs_the_city() -> None:
    with pytest.raises(ValidationError, match="deux ARS"):
        locate("37160")
    regions = {locate("37160", name).ars for name in communes("37160")}
    assert regions == {"24", "75"}


def test_corsica_and_overseas_resolve_to_their_ars() -> None:
    assert locate("20000").ars == "94"
    assert locate("97150").department == "978"
    assert locate("97150").ars == "01"  # Saint-Martin under ARS Guadeloupe


def test_commune_names_are_normalised_like_la_poste() -> None:
    assert normalize_commune(" St-Étienne ") == "SAINT ETIENNE"
    assert normalize_commune("L'Haÿ-les-Roses") == "L HAY LES ROSES"


def test_paris_to_nantes_is_about_343_km() -> None:
    paris, nantes = locate("75001"), locate("44000")
    assert 335 < distance_km(paris.lat, paris.lon, nantes.lat, nantes.lon) < 350


coordinates = st.tuples(st.floats(-60, 60), st.floats(-179, 179))


@given(coordinates, st.floats(0.1, 500), st.floats(0, 1), st.floats(0, 6.28))
def test_every_point_within_the_radius_is_inside_the_bounding_box(
    centre: tuple[float, float], radius: float, fraction: float, bearing: float
) -> None:
    import math

    lat, lon = centre
    # A point at distance fraction*radius along the bearing (small-angle destination formula).
    d = radius * fraction / 6371.0088
    phi1, lambda1 = math.radians(lat), math.radians(lon)
    phi2 = math.asin(math.sin(phi1) * math.cos(d) + math.cos(phi1) * math.sin(d) * math.cos(bearing))
    lambda2 = lambda1 + math.atan2(math.sin(bearing) * math.sin(d) * math.cos(phi1),
                                   math.cos(d) - math.sin(phi1) * math.sin(phi2))
    point = (math.degrees(phi2), math.degrees(lambda2))
    assert distance_km(lat, lon, *point) <= radius + 1e-6
    assert bounding_box(lat, lon, radius).contains(*point)


@given(coordinates, coordinates)
def test_distance_is_symmetric_and_positive(a: tuple[float, float], b: tuple[float, float]) -> None:
    assert distance_km(*a, *b) == pytest.approx(distance_km(*b, *a))
    assert distance_km(*a, *b) >= 0


def test_a_point_exactly_on_the_circle_stays_in_the_box() -> None:
    """Found by hypothesis: 3 km due north of (0, 0) was outside by a rounding of 1e-17°."""
    assert bounding_box(0.0, 0.0, 3.0).contains(0.026979610911736143, 0.0)
