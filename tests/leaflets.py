"""Small leaflets and condition pages for tests of drugs, conditions and titles."""

INSULIN = """# Insulin

Insulin is injected under the skin. Too much insulin causes hypoglycemia, and hypoglycemia
needs sugar at once. Keep insulin in the fridge. Hypoglycemia can make you shaky, and
hypoglycemia at night can wake you.
"""
MEMANTINE = """# Memantine

Memantine is used for Alzheimer's disease. The common side effects of memantine are
dizziness, headache and constipation. Memantine is taken by mouth once a day.
"""
SHINGLES = """# Shingles

Shingles is a painful rash caused by the chickenpox virus. People with shingles feel pain
or tingling first. The symptoms of shingles last two to four weeks. Antiviral medicines
shorten an attack of shingles, and a vaccine can prevent shingles.
"""
VALACYCLOVIR = """# Valacyclovir

Valacyclovir tablets are a prescription antiviral medicine. Valacyclovir is used to treat
cold sores and shingles. Take valacyclovir tablets with water. Valacyclovir can cause
headache and nausea. Acyclovir is a similar medicine.
"""
LEAFLETS = {"s": SHINGLES, "v": VALACYCLOVIR, "i": INSULIN, "m": MEMANTINE}
TITLES = {"s": "Shingles", "v": "Valacyclovir", "i": "Insulin", "m": "Memantine"}
