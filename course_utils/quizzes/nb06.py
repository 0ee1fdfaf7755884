"""Quiz of notebook 06 (emission lines and the interstellar medium)."""

from course_utils.quizzes import Question

QUESTIONS = {
    "06.1": Question(correct="b", why={
        "a": "That is the ionized fraction. U is a ratio of two densities, photons over atoms; a "
             "high U does make the gas more ionized, but U itself counts photons.",
        "b": "Right: U = Q(H) / (4 pi R^2 n_H c) is the number density of ionizing photons at the "
             "gas divided by the number density of hydrogen.",
        "c": "The energy distribution of the photons is the shape of the ionizing spectrum, a "
             "separate input of a photoionization model. U counts photons, whatever their energy "
             "above 13.6 eV.",
        "d": "That is Q(H), the numerator. U also divides by 4 pi R^2 c and by the hydrogen "
             "density: the same star gives a different U to gas at another distance or density.",
    }),
    "06.2": Question(correct="a", why={
        "a": "Right: at z = 0.0029 both lines stay below 4750 A, where MUSE starts, so neither "
             "R_O3 nor R23 can be measured from MUSE alone.",
        "b": "Dust dims blue lines, but it does not remove a line everywhere; the problem is "
             "earlier: the line is not in MUSE's wavelength range at all.",
        "c": "4959 and 5007 are almost 50 A apart, easily resolved by MUSE. The direct method "
             "needs the auroral line 4363, which MUSE does not cover for this galaxy.",
        "d": "The density matters little for R_O3 below ~10^4 cm^-3, and [SII] is measured by "
             "MUSE. The missing piece is the auroral [OIII] 4363 line.",
    }),
    "06.3": Question(correct="c", why={
        "a": "R23 does add O+ and O++ lines, which makes it less sensitive to U, but that is not "
             "why it is double-valued.",
        "b": "Dust changes R23 (3727 and Hbeta are far apart) but shifts every value the same way; "
             "it does not create a second branch.",
        "c": "Right: in metal-poor gas more oxygen means brighter oxygen lines; in metal-rich gas "
             "the metals cool the gas so much that the collisionally excited lines fade. R23 rises "
             "and then falls: two branches.",
        "d": "All the models of the figure share one ionizing spectrum; the two branches come "
             "from the physics of cooling, not from a mix of models.",
    }),
    "06.4": Question(correct="b", why={
        "a": "Look at the table of D16's residual in bins of 12+log(O/H): the 16-84 range grows "
             "in the richest bin, but the median goes down, not up.",
        "b": "Right: the median residual falls (to slightly negative values) while the 16-84 "
             "range more than doubles in the most metal-rich bin.",
        "c": "It is the other way round with metallicity: the median falls and the scatter grows. "
             "(With pressure the median rises.)",
        "d": "D16 was calibrated on MAPPINGS models with particular N/O and pressure relations; "
             "the library's models do not follow them, and the table shows the residual changing.",
    }),
}
