"""Quiz feedback for notebook 08, Henize 2-10 spaxel by spaxel."""

from course_utils.quizzes import Question

QUESTIONS = {
    "08.1": Question(correct="b", why={
        "a": "No: on the library's grid (the cell before section 5) N2 falls as U rises at fixed "
             "O/H, and O3N2 changes even more, because [OIII]/Hbeta climbs with U.",
        "b": "Yes: a higher U moves nitrogen from N+ to N++, so [NII]/Halpha falls, and raises "
             "[OIII]/Hbeta, so O3N2 rises. Both calibrations turn that into a lower O/H, so in the "
             "knots they underestimate the O/H contrast instead of inventing one.",
        "c": "No: the direction of O3N2 is right (it rises) but its calibration is decreasing: "
             "12+log(O/H) = 8.73 - 0.32 O3N2, so a larger O3N2 reads as a lower O/H, as N2 does.",
        "d": "No: both ratios respond strongly to U; the grid cell shows N2 and O3N2 moving by "
             "tenths of a dex for one dex of log U at fixed O/H.",
    }),
    "08.2": Question(correct="d", why={
        "a": "No: fewer draws make the percentiles noisier, but not systematically too narrow; "
             "the misses come from a bias larger than sigma, visible in the residual maps.",
        "b": "No: the cube's noise is drawn with exactly the variance in STAT, so the line errors "
             "are right; the fitted fluxes scatter around the truth as their errors say.",
        "c": "No: the percentiles come from the calibrated distribution, not from the median or "
             "the mean; either summary would miss the truth as often.",
        "d": "Yes: the calibration measures the noise and the regressor's error on library "
             "spectra. The cube has another dust curve, nitrogen off the library's N/O and diffuse "
             "gas: a systematic error the library never shows, so no interval learnt on it covers it.",
    }),
    "08.3": Question(correct="c", why={
        "a": "No: the DIG spaxels have flag 0 yet their log U is biased by several tenths of a "
             "dex, far beyond their sigma; a flag of 0 does not certify the estimate.",
        "b": "No: the flag does not use the Kauffmann line; its BPT bit is the Kewley et al. "
             "(2001) maximum-starburst line, and DIG spectra lie below it.",
        "c": "Yes: that is all the flag's main bit tests, at GAME's estimate. The DIG spectra "
             "fit the library worse than the HII-dominated ones (the model misses their [OIII] "
             "by a few tenths of a dex), but on the class's small library they stay under that "
             "threshold: a flag of 0 does not certify the estimate.",
        "d": "No: a spaxel with upper limits can have flag 0; the few-lines bit is set only with "
             "fewer than three detected lines.",
    }),
}
