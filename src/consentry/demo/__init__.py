"""The demo retailer `consentry demo` builds: purposes, customers and a year of their consents
(retailer.py); its catalogue, purchases and offer stories (shop.py)."""
