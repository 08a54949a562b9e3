import asyncio

from bench import sender

if __name__ == "__main__":
    print(asyncio.run(sender.measure(10000, 2000)))
