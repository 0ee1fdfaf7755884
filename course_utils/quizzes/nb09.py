"""Quiz feedback for notebook 09, scaling out."""

from course_utils.quizzes import Question

QUESTIONS = {
    "09.1": Question(correct="b", why={
        "a": "No: the hits cost 0.99 x 1 ns, but the 1 % of trips to memory cost 0.01 x 100 ns = 1 ns "
             "more, as much as all the hits together.",
        "b": "Yes: t_avg = 0.99 x 1 ns + 0.01 x 100 ns = 1.99 ns. One miss in a hundred doubles the "
             "average time. As processors and caches get faster and memory does not keep pace, the "
             "misses set the time unless p gets ever closer to 1: the memory wall.",
        "c": "No: that is the plain mean of the two times, as if half the operands came from memory; "
             "the average weights each time by how often it occurs.",
        "d": "No: only 1 % of the operands wait for memory; the others come from the cache in 1 ns, "
             "so the average is far below 100 ns.",
    }),
    "09.2": Question(correct="b", why={
        "a": "No: the processor already waits for data most of the time; a faster one would wait "
             "longer, and the step would take as long as before.",
        "b": "Yes: the step is limited by the rate at which memory, disk or network deliver its "
             "bytes (it is I/O- or memory-bound). Hence: read each byte once and only the bytes "
             "needed, and do all the work while they are in memory.",
        "c": "No: a second pass pays the transfer again, and the transfer is the expensive part; "
             "that is why the pipeline does every line and GAME in one pass.",
        "d": "No: exercise 1's table shows a local disk faster than a 1 Gbit/s network; the step is "
             "limited by whichever link the bytes come through, disk or network.",
    }),
    "09.3": Question(correct="d", why={
        "a": "No: each task runs once, on one worker; the notebook compares the gathered maps with "
             "the in-memory run only as a check of the result.",
        "b": "No: on a cube this small the file is read in well under a second and mostly from the "
             "operating system's cache; the reading is not what makes dask slow here.",
        "c": "No: every worker gets its own copy of the trained model and runs GAME on its own "
             "strips at the same time as the others.",
        "d": "Yes: dask scans the cube, sends the model to every worker, and each task re-opens the "
             "file and sets up its fit. These costs do not grow with the cube, so on 64 x 64 "
             "spaxels they rival the work; on a full cube or a survey they become negligible.",
    }),
    "09.4": Question(correct="c", why={
        "a": "No: memory allows up to 56 rows (0.49 GB per chunk, 2 GB in process); it is not the "
             "condition that binds here. It would with several threads per worker or bigger spectra.",
        "b": "No: the overhead sets a lower limit, not an upper one: at least 20 MB per chunk (read "
             "in 0.1 s), so 3 rows. Bigger chunks only make the overhead smaller.",
        "c": "Yes: 300 / chunk_rows >= 16 allows at most 18 rows, well below the memory's 56. The "
             "largest multiple of 16 below 18 is 16 rows: 141 MB per chunk, 19 chunks per cube, "
             "close to dask's advice of chunks of ~100 MB. From below, the whole GAME blocks "
             "(at least 16 rows) matter more than the overhead (3 rows).",
        "d": "No: whole GAME blocks force a multiple of 16 and so a lower limit of 16 rows; they "
             "do not cap the size.",
    }),
}
