"""Seeded demo data of a township 便民服务中心 (沙堰镇), shaped like real platform exports.

Why it exists: the dashboard, the ingest path and the benchmarks need data that behaves like a
real town's — with the problems the field study found — without handing out anyone's records.
The model, in short:

- a catalogue of ~60 services of 12 town offices, each with a promised (承诺) and a statutory (法定)
  time limit, online / fully-online flags and a maximum number of visits;
- 18 months of cases ending with ``end_month``; the online share (网上申请 + 豫事办小程序) rises from
  about 20 % to about 55 %; four services are listed as online-capable but never used online (摆设);
- each case walks a step template (收件/申请 → 受理 → 审核 … → 办结) across the centre's 综合窗口,
  the office, the village committee (村委会) and county bureaux (县…局), so there are handovers;
  补正 loops repeat the review; 市场监管所 and 自然资源所 are clearly slow (long waits at their steps);
- timestamps only fall in office hours (08:30–12:00, 14:30–17:30) of working days of the official
  calendar (调休 included); cases still running at the cut-off are 在办 and their events stop at the
  step in progress;
- applicants have fake but well-formed 姓名 / 身份证号 / 手机号 so PII stripping can be tested, and some
  live through life events (一件事: a birth, a new shop, retirement, hardship, building a house) whose
  cases of several offices they file over a few visits, or file an item again after a refusal, so the
  journeys analysis has a story to tell (only who applies is linked; the cases themselves are unchanged).

Everything is vectorised per month (numpy ``Generator`` seeded from ``(seed, year, month)``), so the
same seed gives identical frames and files, and ``iter_event_chunks`` streams tens of millions of
events with bounded memory for the benchmarks, of one town or spread over a county (``towns=N``:
one file with a 乡镇 column, case ids repeating between towns).

The modules: :mod:`demo.town` (the offices, services, step templates and what the platform's files
look like), :mod:`demo.people` (fake applicants and staff), :mod:`demo.life` (which cases one
applicant files together), :mod:`demo.simulation` (one month of cases and events, vectorised), :mod:`demo.exports` (the public API: ``generate``, ``write_exports``,
``iter_event_chunks``, ``python -m demo.exports``), :mod:`demo.county` (several towns of one county
that differ in volume, online share and office speed, for ``cli.py demo --towns N``) and
:mod:`demo.load` (the demo town or county loaded through the real ingest). The package sits above ingest and store; nothing below imports it.
"""
